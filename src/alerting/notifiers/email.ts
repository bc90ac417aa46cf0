import { createTransport } from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { ReceiverConfig } from '../../config/schema.js';
import { VigilError } from '../../core/errors.js';
import type { Delivery, Notifier, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { alertLine, noticeText, noticeTitle } from '../payload.js';

type EmailConfig = Extract<ReceiverConfig, { type: 'email' }>;

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Subject, text and HTML of a notification; the HTML escapes every value it shows. */
export function emailContent(p: NotificationPayloadV2, prefix: string): { subject: string; text: string; html: string } {
  const subject = `${prefix} ${noticeTitle(p)}`.trim().slice(0, 200);
  const text = `${noticeText(p, 200)}\n\n-- Vigil, ${p.sentAt}\n`;
  const items =
    p.status === 'digest' && p.digest
      ? p.digest.sections.map((s) => `<h3>${escape(s.heading)}</h3><ul>${s.lines.map((l) => `<li>${escape(l)}</li>`).join('')}</ul>`).join('')
      : `<ul>${p.alerts
          .slice(0, 200)
          .map((a) => `<li>${escape(alertLine(a))}${a.ackUrl ? ` — <a href="${escape(a.ackUrl)}">acknowledge</a>` : ''}</li>`)
          .join('')}</ul>`;
  const html = `<!doctype html><html><body><h2>${escape(noticeTitle(p))}</h2>${items}<p style="color:#667">Vigil, ${escape(p.sentAt)}</p></body></html>`;
  return { subject, text, html };
}

/** Why an SMTP send failed, from nodemailer's codes only: its messages can quote the server's reply. */
function smtpFailure(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown; command?: unknown };
  const parts = [typeof e.code === 'string' ? e.code : 'error', typeof e.command === 'string' ? `at ${e.command.split(' ')[0]}` : '', typeof e.responseCode === 'number' ? `reply ${e.responseCode}` : ''];
  return parts.filter(Boolean).join(' ');
}

/** Sends each notification as one email (text and HTML) over SMTP with nodemailer. */
export class EmailNotifier implements Notifier {
  readonly receiver: string;
  private readonly transport: Transporter;

  constructor(private readonly config: EmailConfig) {
    this.receiver = config.name;
    const { smtp } = config;
    this.transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: !smtp.secure && smtp.requireTLS,
      ignoreTLS: !smtp.secure && !smtp.requireTLS,
      ...(smtp.user === undefined ? {} : { auth: { user: smtp.user, pass: smtp.password ?? '' } }),
      connectionTimeout: config.timeout,
      greetingTimeout: config.timeout,
      socketTimeout: config.timeout,
      logger: false,
      debug: false,
    });
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new VigilError('VGL_NOTIFY_FAILED', `email ${this.receiver}: cancelled`);
    const payload = JSON.parse(delivery.payload) as NotificationPayloadV2;
    const { subject, text, html } = emailContent(payload, this.config.subjectPrefix);
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: this.config.to,
        subject,
        text,
        html,
        headers: { 'X-Vigil-Notification-Id': String(delivery.notificationId) },
      });
    } catch (err) {
      throw new VigilError('VGL_NOTIFY_FAILED', `email ${this.receiver}: ${smtpFailure(err)}`);
    }
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

export const createEmailNotifier: NotifierFactory<'email'> = (config) => new EmailNotifier(config);
