import { spawn } from 'node:child_process';
import type { AlertActionConfig, AlertRuleConfig } from '../config/alert-rule-schema.js';
import type { AuditSink } from '../audit/sink.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { VigilError, isVigilError } from '../core/errors.js';
import type { Alert, AlertActionRun } from '../store/records.js';
import type { AlertActionRunRepository } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { formatValue, renderTemplate } from './rules/template.js';
import { settledBy } from '../core/lifecycle.js';

/** Switches a gateway route to its fallback targets and back (GatewayServer implements it). */
export interface RouteFallbackSwitch {
  /** Throws VGL_ALERT_ROUTE_FALLBACK when the route is unknown or has no fallback targets. */
  useFallback(route: string, on: boolean): void;
}

export interface ActionRunnerDeps {
  runs: AlertActionRunRepository;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  gateway?: RouteFallbackSwitch;
  /** Grace between SIGTERM and SIGKILL of a timed-out command's process group. */
  killGraceMs?: number;
}

type Outcome = Exclude<AlertActionRun['outcome'], 'running' | 'skipped'>;

/** Only these variables reach a command (plus the alert's own): Vigil's environment may hold secrets. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'TZ'];

/**
 * Runs rule actions when an alert fires: a command (no shell unless asked, a timeout that kills
 * the whole process group), a webhook, or a gateway route switched to its fallback targets (and
 * back when the alert resolves). At most `maxRuns` per `per` window and rule action; every run,
 * and every skip, is recorded in the store and audited.
 */
export class ActionRunner {
  private readonly running = new Set<Promise<void>>();
  /** Cap checks and run records one after another, so two firings cannot both take the last run. */
  private admit: Promise<unknown> = Promise.resolve();
  private readonly children = new Set<number>();

  constructor(private readonly deps: ActionRunnerDeps) {}

  /** Called with every alert change of a rule that has actions. */
  onChange(rule: AlertRuleConfig, alert: Alert): void {
    const fired = alert.state === 'firing' && alert.previousState !== 'firing';
    const resolvedFromFiring = alert.state === 'resolved' && alert.previousState === 'firing';
    rule.actions.forEach((action, index) => {
      if (fired) this.track(this.run(rule, action, index, alert, true));
      else if (resolvedFromFiring && action.type === 'routeFallback') this.track(this.run(rule, action, index, alert, false));
    });
  }

  /** After a restart: routes of alerts still firing go back to their fallback targets (not counted, but recorded). */
  restore(rule: AlertRuleConfig, alert: Alert): void {
    if (alert.state !== 'firing') return;
    rule.actions.forEach((action, index) => {
      if (action.type === 'routeFallback') this.track(this.run(rule, action, index, alert, true, true));
    });
  }

  /** Waits for runs in flight until the deadline, then kills the process groups still running. */
  async stop(deadline: number): Promise<void> {
    await settledBy(Promise.all(this.running), deadline);
    for (const pid of this.children) killGroup(pid, 'SIGKILL');
  }

  /** Resolves when every run started so far has finished (tests). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private track(run: Promise<void>): void {
    const tracked = run.catch((err: unknown) => this.deps.logger.error({ err }, 'alert action failed unexpectedly')).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async run(rule: AlertRuleConfig, action: AlertActionConfig, index: number, alert: Alert, firing: boolean, restoring = false): Promise<void> {
    const { runs, clock, audit } = this.deps;
    const log = this.deps.logger.child({ component: 'alert-actions', alert: alert.id, rule: rule.name, action: index, type: action.type });
    const auditEvent = (result: 'requested' | 'success' | 'failure' | 'denied', detail: string) =>
      audit.record({ at: clock.now(), actor: 'system', action: 'alerts.action', target: alert.id, sourceIp: null, result, details: { rule: rule.name, action: index, type: action.type, detail } });
    const admitted = this.admit.then(async (): Promise<{ skipped: string } | { id: number }> => {
      const startedAt = clock.now();
      const base = { alertId: alert.id, rule: rule.name, action: index, type: action.type, startedAt };
      // Switching a route back is never capped: the cap limits what an alert may do, not undoing it.
      if (firing && !restoring && (await runs.countSince(rule.name, index, startedAt - action.per)) >= action.maxRuns) {
        const detail = `skipped: ${action.maxRuns} runs within ${formatDuration(action.per)} already`;
        await runs.start({ ...base, finishedAt: startedAt, outcome: 'skipped', detail });
        return { skipped: detail };
      }
      return { id: await runs.start({ ...base, finishedAt: null, outcome: 'running', detail: '' }) };
    });
    this.admit = admitted.catch(() => undefined);
    const admission = await admitted;
    if ('skipped' in admission) {
      log.warn({ detail: admission.skipped }, 'alert action skipped');
      await auditEvent('denied', admission.skipped).catch((err: unknown) => log.error({ err }, 'audit of a skipped action failed'));
      return;
    }
    const id = admission.id;
    try {
      await auditEvent('requested', restoring ? 'restored after restart' : firing ? 'alert fired' : 'alert resolved');
    } catch (err) {
      const detail = `not run: the audit log refused it (${isVigilError(err) ? err.code : 'error'})`;
      await runs.finish(id, 'failed', detail, clock.now());
      log.error({ err }, 'alert action not run: its audit entry could not be written');
      return;
    }
    let outcome: Outcome;
    let detail: string;
    try {
      [outcome, detail] = await this.execute(action, alert, firing);
    } catch (err) {
      outcome = 'failed';
      detail = isVigilError(err) ? err.message : (err as Error).message;
    }
    await runs.finish(id, outcome, detail, clock.now());
    if (outcome === 'succeeded') log.info({ detail }, 'alert action ran');
    else log.error({ code: 'VGL_ALERT_ACTION_FAILED', outcome, detail }, 'alert action failed');
    await auditEvent(outcome === 'succeeded' ? 'success' : 'failure', detail).catch((err: unknown) => log.error({ err }, 'audit of an action result failed'));
  }

  private execute(action: AlertActionConfig, alert: Alert, firing: boolean): Promise<[Outcome, string]> {
    switch (action.type) {
      case 'command':
        return this.command(action, alert);
      case 'webhook':
        return webhook(action, alert);
      case 'routeFallback': {
        if (this.deps.gateway === undefined) throw new VigilError('VGL_ALERT_ROUTE_FALLBACK', 'no gateway to switch routes on');
        this.deps.gateway.useFallback(action.route, firing);
        return Promise.resolve(['succeeded', firing ? `route ${action.route} switched to its fallback targets` : `route ${action.route} back on its primary targets`]);
      }
    }
  }

  private command(action: Extract<AlertActionConfig, { type: 'command' }>, alert: Alert): Promise<[Outcome, string]> {
    const argv = action.argv.map((arg) => renderTemplate(arg, alert.labels, alert.value ?? null));
    const [file, ...args] = action.shell ? ['/bin/sh', '-c', ...argv] : argv;
    const env: NodeJS.ProcessEnv = Object.fromEntries(PASSED_ENV.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
    Object.assign(env, {
      VIGIL_ALERT_ID: alert.id,
      VIGIL_ALERT_RULE: alert.rule,
      VIGIL_ALERT_STATE: alert.state,
      VIGIL_ALERT_SEVERITY: alert.severity,
      VIGIL_ALERT_VALUE: formatValue(alert.value ?? null),
      VIGIL_ALERT_LABELS: JSON.stringify(alert.labels),
      VIGIL_ALERT_SUMMARY: alert.summary,
    });
    return new Promise((resolve) => {
      // Its own process group (detached), so a timeout kills everything it started, not just the shell.
      const child = spawn(file ?? '', args, { detached: true, stdio: 'ignore', env });
      let timedOut = false;
      let grace: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid === undefined) return;
        killGroup(child.pid, 'SIGTERM');
        const pid = child.pid;
        grace = setTimeout(() => killGroup(pid, 'SIGKILL'), this.deps.killGraceMs ?? 2000);
      }, action.timeout);
      if (child.pid !== undefined) this.children.add(child.pid);
      const done = (result: [Outcome, string]) => {
        clearTimeout(timer);
        clearTimeout(grace);
        if (child.pid !== undefined) {
          // Whatever the leader left behind in its group goes with it.
          killGroup(child.pid, 'SIGKILL');
          this.children.delete(child.pid);
        }
        resolve(result);
      };
      child.once('error', (err: NodeJS.ErrnoException) => done(['failed', `cannot start ${file ?? ''}: ${err.code ?? err.message}`]));
      child.once('exit', (code, signal) => {
        if (timedOut) done(['timeout', `killed after ${formatDuration(action.timeout)} (process group)`]);
        else if (code === 0) done(['succeeded', 'exit 0']);
        else done(['failed', code !== null ? `exit ${code}` : `killed by ${signal ?? 'a signal'}`]);
      });
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function webhook(action: Extract<AlertActionConfig, { type: 'webhook' }>, alert: Alert): Promise<[Outcome, string]> {
  let response: Response;
  try {
    response = await fetch(action.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...action.headers },
      body: JSON.stringify({ version: 1, kind: 'alert.action', alert }),
      redirect: 'error',
      signal: AbortSignal.timeout(action.timeout),
    });
    await response.arrayBuffer();
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError') return ['timeout', `no answer within ${formatDuration(action.timeout)}`];
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return ['failed', `request failed${cause ? ` (${cause})` : ''}`];
  }
  return [response.ok ? 'succeeded' : 'failed', `HTTP ${response.status}`];
}
