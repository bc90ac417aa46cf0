import { withAudit } from '../../audit/with-audit.js';
import { acknowledgeAlert } from '../../alerting/ack.js';
import { alertDetail, createSilence, expireSilence, silenceState } from '../../alerting/silences.js';
import { parseDuration } from '../../core/duration.js';
import { VigilError } from '../../core/errors.js';
import { cliActor, withVault } from '../vault-session.js';

function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString();
}

function parseTime(option: string, text: string): number {
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new VigilError('VGL_CLI_USAGE', `${option}: '${text}' is not an ISO 8601 time like 2025-06-01T22:00:00Z`);
  return at;
}

function parseSpan(option: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) throw new VigilError('VGL_CLI_USAGE', `${option}: '${text}' is not a duration like 2h`);
  return ms;
}

export async function runSilenceAdd(opts: { config?: string; matcher: string[]; start?: string; end?: string; duration?: string; author?: string; comment: string; json?: boolean }): Promise<void> {
  const now = Date.now();
  const startsAt = opts.start === undefined ? now : parseTime('--start', opts.start);
  if ((opts.end === undefined) === (opts.duration === undefined)) throw new VigilError('VGL_CLI_USAGE', 'give either --end or --duration');
  const endsAt = opts.end !== undefined ? parseTime('--end', opts.end) : startsAt + parseSpan('--duration', opts.duration as string);
  const actor = cliActor();
  const author = opts.author ?? actor.actor;
  const event = { at: now, ...actor, action: 'alerts.silence.create', target: opts.matcher.join(','), details: { endsAt } };
  const created = await withVault(opts.config, (v) => withAudit(v.audit, event, () => createSilence(v.store, { matchers: opts.matcher, startsAt, endsAt, author, comment: opts.comment }, now)));
  if (opts.json) console.log(JSON.stringify(created));
  else console.log(`${created.id} silences ${created.matchers.join(' ')} from ${iso(created.startsAt)} until ${iso(created.endsAt)}`);
}

export async function runSilenceList(opts: { config?: string; all?: boolean; json?: boolean }): Promise<void> {
  const now = Date.now();
  const list = await withVault(opts.config, (v) => v.store.silences.list(opts.all ? 0 : now));
  const rows = list.map((s) => ({ ...s, state: silenceState(s, now) }));
  if (opts.json) {
    console.log(JSON.stringify(rows));
    return;
  }
  console.log(['ID'.padEnd(20), 'STATE'.padEnd(8), 'STARTS'.padEnd(25), 'ENDS'.padEnd(25), 'AUTHOR'.padEnd(16), 'MATCHERS', '— COMMENT'].join(' '));
  for (const r of rows) console.log([r.id.padEnd(20), r.state.padEnd(8), iso(r.startsAt).padEnd(25), iso(r.endsAt).padEnd(25), r.author.padEnd(16), r.matchers.join(' '), `— ${r.comment}`].join(' '));
}

export async function runSilenceExpire(id: string, opts: { config?: string }): Promise<void> {
  const event = { at: Date.now(), ...cliActor(), action: 'alerts.silence.expire', target: id };
  await withVault(opts.config, (v) => withAudit(v.audit, event, () => expireSilence(v.store, id, Date.now())));
  console.log(`expired ${id}`);
}

export async function runAck(id: string, opts: { config?: string; comment: string }): Promise<void> {
  const actor = cliActor();
  const event = { at: Date.now(), ...actor, action: 'alerts.ack', target: id };
  const result = await withVault(opts.config, (v) => withAudit(v.audit, event, () => acknowledgeAlert(v.store, { alertId: id, by: actor.actor, via: 'cli', comment: opts.comment, now: Date.now() })));
  console.log(result.already ? `${id} was already acknowledged` : `acknowledged ${id}`);
}

export async function runHistory(opts: { config?: string; alert?: string; since: string; limit: string; json?: boolean }): Promise<void> {
  const now = Date.now();
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new VigilError('VGL_CLI_USAGE', '--limit must be 1-100000');
  const from = now - parseSpan('--since', opts.since);
  await withVault(opts.config, async (v) => {
    if (opts.alert !== undefined) {
      const detail = await alertDetail(v.store, opts.alert);
      if (opts.json) {
        console.log(JSON.stringify(detail));
        return;
      }
      const a = detail.alert;
      console.log(`${a.id} ${a.state} ${a.severity} since ${iso(a.pendingSince)} fired ${iso(a.firedAt)} resolved ${iso(a.resolvedAt)}: ${a.summary}`);
      for (const e of [...detail.events].reverse()) console.log(`  ${iso(e.at)} ${e.event.padEnd(12)} ${e.detail}`);
      for (const n of detail.notifications) {
        console.log(`  notification ${n.id} ${n.kind} to ${n.receiver}: ${n.state} after ${n.attempts} attempt(s)${n.lastError ? ` (${n.lastError})` : ''}`);
        for (const t of n.deliveryAttempts) console.log(`    ${iso(t.at)} attempt ${t.attempt} ${t.outcome}${t.error ? `: ${t.error}` : ''}`);
      }
      return;
    }
    const events = await v.store.alertLog.events({ from, to: now, limit });
    const attempts = await v.store.alertLog.recentAttempts(from, now, limit);
    if (opts.json) {
      console.log(JSON.stringify({ events, attempts }));
      return;
    }
    for (const e of [...events].reverse()) console.log(`${iso(e.at)} ${e.alertId.padEnd(24)} ${e.event.padEnd(12)} ${e.detail}`);
    const failed = attempts.filter((t) => t.outcome !== 'delivered');
    console.log(`${attempts.length} delivery attempt(s), ${failed.length} failed or expired`);
    for (const t of failed.slice(0, 20)) console.log(`  ${iso(t.at)} notification ${t.notificationId} to ${t.receiver} attempt ${t.attempt} ${t.outcome}: ${t.error ?? ''}`);
  });
}
