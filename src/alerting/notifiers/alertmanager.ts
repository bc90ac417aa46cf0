import type { ReceiverConfig } from '../../config/schema.js';
import { splitUrlCredentials } from '../../monitor/http-request.js';
import type { Delivery, Notifier, NotifierDeps, NotifierFactory } from '../notifier.js';
import type { NotificationPayloadV2 } from '../payload.js';
import { postJson } from './http.js';

type AlertmanagerConfig = Extract<ReceiverConfig, { type: 'alertmanager' }>;

/** Alertmanager's `postableAlerts`: `alertname` is the rule; a resolved alert carries its `endsAt`. */
export function alertmanagerAlerts(p: NotificationPayloadV2): Record<string, unknown>[] {
  return p.alerts.map((a) => ({
    labels: { ...a.labels, alertname: a.rule, severity: a.severity },
    annotations: { ...a.annotations, summary: a.summary },
    startsAt: a.firedAt ?? a.startsAt,
    ...(a.resolvedAt === null ? {} : { endsAt: a.resolvedAt }),
    ...(a.ackUrl === null ? {} : { generatorURL: a.ackUrl }),
  }));
}

export class AlertmanagerNotifier implements Notifier {
  readonly receiver: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: AlertmanagerConfig, private readonly deps: NotifierDeps) {
    this.receiver = config.name;
    const { url, authorization } = splitUrlCredentials(config.url);
    this.url = new URL('api/v2/alerts', url.endsWith('/') ? url : `${url}/`).toString();
    this.headers = { ...(authorization === undefined ? {} : { authorization }), ...config.headers };
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const payload = JSON.parse(delivery.payload) as NotificationPayloadV2;
    // Alertmanager has no acknowledgement and no digest: only firing and resolved alerts go there.
    if (payload.status === 'acknowledged' || payload.status === 'digest') return;
    await postJson({
      what: `alertmanager ${this.receiver}`,
      url: this.url,
      headers: this.headers,
      body: JSON.stringify(alertmanagerAlerts(payload)),
      timeoutMs: this.config.timeout,
      dispatcher: this.deps.dispatcher,
      signal,
    });
  }
}

export const createAlertmanagerNotifier: NotifierFactory<'alertmanager'> = (config, deps) => new AlertmanagerNotifier(config, deps);
