import { pino } from 'pino';
import { withAudit } from '../../audit/with-audit.js';
import { systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { EventBus } from '../../core/bus.js';
import { VigilError } from '../../core/errors.js';
import { SecurityEventRecorder } from '../../identity/security-events.js';
import { BanService } from '../../protection/bans.js';
import type { Ban } from '../../store/records.js';
import { loadVaultLocation } from '../../vault/config-secrets.js';
import { cliActor, withVault } from '../vault-session.js';
import type { VaultSession } from '../vault-session.js';

/**
 * Bans by hand, on the store the gateway reads: a running Vigil picks a change up within a second
 * (it polls the ban table), and with Redis every instance does.
 */
function bansOf(configFile: string | undefined, session: VaultSession): BanService {
  const { config } = loadVaultLocation(configFile, process.env);
  const logger = pino({ enabled: false });
  return new BanService(config.bans, {
    repo: session.store.bans,
    clock: systemClock,
    logger,
    securityEvents: new SecurityEventRecorder(session.store.securityEvents, logger),
    bus: new EventBus(() => undefined),
    ipv6Prefix: config.protection.ipv6Prefix,
  });
}

function show(ban: Ban): string {
  return `${ban.target}\t${ban.kind}\tuntil ${new Date(ban.expiresAt).toISOString()}\toffences ${ban.offences}\t${ban.source}\t${ban.reason}`;
}

export async function runAdd(target: string, opts: { config?: string; for: string; reason: string; json?: boolean }): Promise<void> {
  const ms = parseDuration(opts.for);
  if (ms === undefined || ms <= 0) throw new VigilError('VGL_CLI_USAGE', `--for: '${opts.for}' is not a duration like 1h`);
  const actor = cliActor();
  const ban = await withVault(opts.config, async (session) => {
    const service = bansOf(opts.config, session);
    return withAudit(session.audit, { at: Date.now(), ...actor, action: 'bans.add', target, details: { durationMs: ms, reason: opts.reason } }, () => service.add(target, ms, opts.reason, actor.actor));
  });
  console.log(opts.json ? JSON.stringify(ban) : show(ban));
}

export async function runList(opts: { config?: string; json?: boolean }): Promise<void> {
  const list = await withVault(opts.config, (session) => session.store.bans.active(Date.now()));
  if (opts.json) console.log(JSON.stringify(list));
  else for (const ban of list) console.log(show(ban));
}

export async function runRemove(target: string, opts: { config?: string }): Promise<void> {
  const actor = cliActor();
  await withVault(opts.config, async (session) => {
    const service = bansOf(opts.config, session);
    await withAudit(session.audit, { at: Date.now(), ...actor, action: 'bans.remove', target }, () => service.remove(target));
  });
  console.error(`lifted the ban of ${target}`);
}
