import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/errors.js';
import { ensurePrivateFile } from '../store/data-dir.js';
import type { Alert, AlertAck } from '../store/records.js';
import type { Store } from '../store/store.js';
import { notificationPayload } from './payload.js';

const ACK_KEY_FILE = 'alert-ack.key';

/** The HMAC key of acknowledge links: 32 random bytes in `<dataDir>/alert-ack.key` (0600), made on first use. */
export function loadAckKey(dataDir: string): Buffer {
  const file = join(dataDir, ACK_KEY_FILE);
  ensurePrivateFile(file);
  let key = readFileSync(file);
  if (key.length === 0) {
    key = randomBytes(32);
    writeFileSync(file, key, { mode: 0o600 });
  }
  if (key.length !== 32) throw new VigilError('VGL_STORE_FAILED', `${file} is corrupt (expected 32 bytes)`);
  return key;
}

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(`vigil-ack\n${body}`).digest();

/** A token for one alert episode: `<base64url(alertId \n episode \n expiresAt)>.<base64url(HMAC)>`. */
export function signAckToken(key: Buffer, alertId: string, episode: number, expiresAt: number): string {
  const body = `${alertId}\n${episode}\n${expiresAt}`;
  return `${Buffer.from(body).toString('base64url')}.${mac(key, body).toString('base64url')}`;
}

/** The alert episode a token acknowledges; VGL_ACK_LINK_INVALID when forged, malformed or expired. */
export function verifyAckToken(key: Buffer, token: string, now: number): { alertId: string; episode: number } {
  const invalid = (why: string) => new VigilError('VGL_ACK_LINK_INVALID', `acknowledge link ${why}`);
  const [bodyPart, macPart, extra] = token.split('.');
  if (bodyPart === undefined || macPart === undefined || extra !== undefined || token.length > 600) throw invalid('is malformed');
  const body = Buffer.from(bodyPart, 'base64url').toString();
  const given = Buffer.from(macPart, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('has a bad signature');
  const [alertId, episode, expiresAt] = body.split('\n');
  if (alertId === undefined || episode === undefined || expiresAt === undefined) throw invalid('is malformed');
  if (Number(expiresAt) <= now) throw invalid('has expired');
  return { alertId, episode: Number(episode) };
}

export function ackUrl(externalUrl: string, token: string): string {
  return new URL(`alerts/ack/${token}`, externalUrl.endsWith('/') ? externalUrl : `${externalUrl}/`).toString();
}

/**
 * Acknowledges a firing alert: records who and how, stops its escalation, and tells every receiver
 * that heard it fire (an `acknowledged` notice in the outbox, so PagerDuty acknowledges the incident).
 * Works from the CLI as well as the server: everything goes through the store.
 */
export async function acknowledgeAlert(store: Store, input: { alertId: string; by: string; via: AlertAck['via']; comment: string; now: number; episode?: number }): Promise<{ alert: Alert; already: boolean }> {
  const alert = await store.alerts.get(input.alertId);
  if (alert === undefined) throw new VigilError('VGL_ALERT_NOT_FOUND', `no alert '${input.alertId.slice(0, 120)}'`);
  if (alert.state !== 'firing' || (input.episode !== undefined && input.episode !== alert.pendingSince)) {
    throw new VigilError('VGL_ALERT_NOT_FIRING', `alert '${alert.id}' is ${alert.state === 'firing' ? 'firing again since a newer outage' : alert.state}; only a firing alert can be acknowledged`);
  }
  const episode = alert.pendingSince;
  const existing = await store.alertLog.acks(alert.id, episode);
  if (existing.length > 0) return { alert, already: true };
  await store.alertLog.addAck({ alertId: alert.id, episode, by: input.by, via: input.via, comment: input.comment, at: input.now });
  await store.alertLog.append({ alertId: alert.id, at: input.now, event: 'acknowledged', severity: alert.severity, detail: `by ${input.by} via ${input.via}${input.comment ? `: ${input.comment}` : ''}` });
  const heard = new Map<string, { receiver: string; groupKey: string }>();
  for (const r of await store.alertLog.receipts(alert.id, episode)) if (r.kind === 'firing') heard.set(`${r.receiver}\n${r.groupKey}`, { receiver: r.receiver, groupKey: r.groupKey });
  for (const { receiver, groupKey } of heard.values()) {
    const view = { alert, acknowledged: { by: input.by, at: input.now }, ackUrl: null };
    const payload = notificationPayload({ kind: 'acknowledged', receiver, groupKey, groupLabels: {}, alerts: [view] }, input.now);
    const id = await store.outbox.enqueue({ alertId: groupKey, receiver, kind: 'acknowledged', payload, createdAt: input.now });
    await store.alertLog.addReceipts([{ alertId: alert.id, episode, receiver, groupKey, kind: 'acknowledged', notificationId: id, at: input.now }]);
  }
  return { alert, already: false };
}
