import { randomBytes } from 'node:crypto';
import { VigilError } from '../core/errors.js';
import type { Alert, AlertEvent, DeliveryAttempt, Notification, Silence } from '../store/records.js';
import type { Store } from '../store/store.js';
import { formatMatcher, parseMatcher } from './matchers.js';

export interface NewSilence {
  matchers: string[];
  startsAt?: number;
  endsAt: number;
  author: string;
  comment: string;
}

/** Validates and stores a silence; the same rules for the CLI and the API. */
export async function createSilence(store: Store, input: NewSilence, now: number): Promise<Silence> {
  const invalid = (why: string) => new VigilError('VGL_SILENCE_INVALID', why);
  if (input.matchers.length === 0) throw invalid('a silence needs at least one matcher; use a maintenance window to mute everything');
  if (input.matchers.length > 32) throw invalid('a silence takes at most 32 matchers');
  const matchers = input.matchers.map((m) => formatMatcher(parseMatcher(m)));
  const author = input.author.trim();
  const comment = input.comment.trim();
  if (author === '' || author.length > 100) throw invalid('author must be 1-100 characters');
  if (comment === '' || comment.length > 500) throw invalid('comment must be 1-500 characters: say why');
  const startsAt = input.startsAt ?? now;
  if (!Number.isFinite(startsAt) || !Number.isFinite(input.endsAt)) throw invalid('start and end must be times');
  if (input.endsAt <= startsAt) throw invalid('the end must be after the start');
  if (input.endsAt <= now) throw invalid('the end is in the past');
  const silence: Silence = { id: `sil_${randomBytes(8).toString('hex')}`, matchers, startsAt, endsAt: input.endsAt, author, comment, createdAt: now, expiredAt: null };
  await store.silences.insert(silence);
  return silence;
}

export async function expireSilence(store: Store, id: string, now: number): Promise<void> {
  if (await store.silences.expire(id, now)) return;
  const existing = await store.silences.get(id);
  throw existing === undefined ? new VigilError('VGL_ALERT_NOT_FOUND', `no silence '${id.slice(0, 64)}'`) : new VigilError('VGL_SILENCE_INVALID', `silence '${id}' has already ended`);
}

export function silenceState(s: Silence, now: number): 'pending' | 'active' | 'expired' {
  return s.endsAt <= now ? 'expired' : s.startsAt > now ? 'pending' : 'active';
}

export interface AlertDetail {
  alert: Alert;
  events: AlertEvent[];
  notifications: (Omit<Notification, 'payload'> & { deliveryAttempts: DeliveryAttempt[] })[];
}

/** One alert with its history: events, and the notifications that carried it with every attempt. */
export async function alertDetail(store: Store, id: string): Promise<AlertDetail> {
  const alert = await store.alerts.get(id);
  if (alert === undefined) throw new VigilError('VGL_ALERT_NOT_FOUND', `no alert '${id.slice(0, 120)}'`);
  const events = await store.alertLog.events({ alertId: id, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 500 });
  const ids = [...new Set((await store.alertLog.receiptsFor(id, 200)).map((r) => r.notificationId))];
  const notifications = [];
  for (const nid of ids) {
    const n = await store.outbox.get(nid);
    if (n === undefined) continue;
    const { payload: _payload, ...rest } = n;
    notifications.push({ ...rest, deliveryAttempts: await store.alertLog.attempts(nid) });
  }
  return { alert, events, notifications };
}
