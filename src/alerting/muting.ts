import { CronExpressionParser } from 'cron-parser';
import type { InhibitRuleConfig, MaintenanceWindowConfig } from '../config/schema.js';
import type { Alert, Silence } from '../store/records.js';
import type { Matcher } from './matchers.js';
import { matchesAll, parseMatcher } from './matchers.js';

interface CompiledWindow {
  name: string;
  matchers: Matcher[];
  /** Whether the window is open at `now`. */
  open(now: number): boolean;
}

function compileWindow(w: MaintenanceWindowConfig): CompiledWindow {
  const matchers = w.matchers.map(parseMatcher);
  if (w.start !== undefined && w.end !== undefined) {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    return { name: w.name, matchers, open: (now) => now >= start && now < end };
  }
  const cron = w.cron as string;
  const length = w.duration as number;
  return {
    name: w.name,
    matchers,
    open: (now) => {
      // The latest opening at or before now; the window is open until it has lasted `duration`.
      const opened = CronExpressionParser.parse(cron, { currentDate: new Date(now + 1), tz: w.timezone }).prev().getTime();
      return now < opened + length;
    },
  };
}

interface CompiledInhibit {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

/**
 * Why a firing alert is not notified right now, or undefined when it is: an active silence, an open
 * maintenance window, or inhibition by another firing alert.
 */
export class Muting {
  private readonly windows: CompiledWindow[];
  private readonly inhibits: CompiledInhibit[];

  constructor(maintenance: readonly MaintenanceWindowConfig[], inhibit: readonly InhibitRuleConfig[]) {
    this.windows = maintenance.map(compileWindow);
    this.inhibits = inhibit.map((r) => ({ source: r.source.map(parseMatcher), target: r.target.map(parseMatcher), equal: r.equal }));
  }

  reason(alert: Alert, firing: readonly Alert[], silences: readonly ActiveSilence[], now: number): string | undefined {
    for (const s of silences) if (s.startsAt <= now && now < s.endsAt && matchesAll(s.matchers, alert.labels)) return `silenced by ${s.id}`;
    for (const w of this.windows) if (matchesAll(w.matchers, alert.labels) && w.open(now)) return `maintenance window ${w.name}`;
    for (const rule of this.inhibits) {
      if (!matchesAll(rule.target, alert.labels)) continue;
      const source = firing.find(
        (other) => other.id !== alert.id && other.state === 'firing' && matchesAll(rule.source, other.labels) && rule.equal.every((l) => (other.labels[l] ?? '') === (alert.labels[l] ?? '')),
      );
      if (source !== undefined) return `inhibited by ${source.id}`;
    }
    return undefined;
  }

  /** The names of the maintenance windows open at `now`. */
  openWindows(now: number): string[] {
    return this.windows.filter((w) => w.open(now)).map((w) => w.name);
  }
}

export interface ActiveSilence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
}

/** Silences with their matchers parsed; a stored silence whose matcher no longer parses matches nothing. */
export function compileSilences(silences: readonly Silence[]): ActiveSilence[] {
  const out: ActiveSilence[] = [];
  for (const s of silences) {
    try {
      out.push({ id: s.id, matchers: s.matchers.map(parseMatcher), startsAt: s.startsAt, endsAt: s.endsAt });
    } catch {
      continue;
    }
  }
  return out;
}
