import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../../config/schema.js';
import { ConfiguredCheck } from '../check.js';
import type { CheckFactory, CheckOutcome } from '../check.js';
import { codeOf, down, judge } from '../outcome.js';

type CommandConfig = Extract<CheckConfig, { type: 'command' }>;

/** After SIGTERM at the timeout, how long a process may take before it gets SIGKILL. */
const KILL_GRACE_MS = 500;

/**
 * Runs a program and judges its exit code (and, with conditions, its output). No shell unless
 * `shell: true`, so arguments are never expanded. Output beyond `maxOutput` is read and thrown
 * away (the child never blocks on a full pipe, and a flood cannot grow memory). At the timeout or
 * on cancel the whole process group gets SIGTERM, then SIGKILL.
 */
export class CommandCheck extends ConfiguredCheck<'command'> {
  readonly type = 'command';

  constructor(config: CommandConfig) {
    super(config);
  }

  run(signal: AbortSignal): Promise<CheckOutcome> {
    const started = performance.now();
    const { command, args, shell, cwd, maxOutput } = this.config;
    return new Promise<CheckOutcome>((resolve) => {
      const child = shell
        ? spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
        : spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let truncated = false;
      const collect = (chunk: Buffer): void => {
        if (keptBytes >= maxOutput) {
          truncated = true;
          return;
        }
        const room = maxOutput - keptBytes;
        kept.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        keptBytes += Math.min(room, chunk.length);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let ended: string | undefined;
      // Settles at once: a grandchild that left the process group may hold the pipes open for ever.
      const stop = (why: string): void => {
        if (ended !== undefined) return;
        ended = why;
        killGroup(child.pid, 'SIGTERM');
        const killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
        child.stdout.destroy();
        child.stderr.destroy();
        settle(down(performance.now() - started, why));
      };
      const timer = setTimeout(() => stop(`timed out after ${this.config.timeout}ms`), this.config.timeout);
      const onAbort = (): void => stop('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      const settle = (outcome: CheckOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      child.once('error', (err) => settle(down(performance.now() - started, `cannot run command (${codeOf(err)})`)));
      child.once('close', (code, sig) => {
        const latencyMs = performance.now() - started;
        if (ended !== undefined) return;
        if (code === null) return settle(down(latencyMs, `killed by ${sig ?? 'a signal'}`));
        const output = Buffer.concat(kept).toString('utf8');
        if (code !== this.config.expectExitCode) return settle(down(latencyMs, `exit code ${code}, expected ${this.config.expectExitCode}`));
        const detail = `exit code ${code}${truncated ? ` (output cut at ${maxOutput} bytes)` : ''}`;
        settle(judge(this.config.conditions, { EXIT_CODE: code, OUTPUT: output }, latencyMs, detail));
      });
    });
  }
}

/** Signals the child's whole process group (it was started detached), so `sh -c` grandchildren die too. */
function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

export const createCommandCheck: CheckFactory<'command'> = (config) => new CommandCheck(config);
