import type { Clock } from '../../core/clock.js';

/** Breaker states, also the values of the `vigil_gateway_breaker_state` gauge. */
export const BREAKER_STATE = { closed: 0, open: 1, 'half-open': 2 } as const;
export type BreakerState = keyof typeof BREAKER_STATE;

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (eject the target). */
  readonly failures: number;
  /** How long the first ejection lasts; each further one in a row doubles it, up to `maxOpenFor`. */
  readonly openFor: number;
  readonly maxOpenFor: number;
}

/**
 * One target's circuit breaker, which is also its passive outlier ejection: `failures` consecutive
 * failures open it (the target is out), after `openFor` it turns half-open and admits exactly one
 * probe request at a time; the probe's success closes it, its failure opens it again for twice as
 * long (growing up to `maxOpenFor`), so a flapping target is tried less and less often.
 */
export class Breaker {
  state: BreakerState = 'closed';
  private consecutiveFailures = 0;
  /** Ejections in a row without a success in between; sets the next open duration. */
  private streak = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (state: BreakerState) => void,
  ) {}

  /** True when a request may be sent now (without claiming the half-open probe). */
  canAttempt(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return this.clock.now() >= this.openUntil;
    return !this.probing;
  }

  /** Called for the target actually chosen: claims the single half-open probe when due. */
  acquire(): void {
    if (this.state === 'open' && this.clock.now() >= this.openUntil) this.set('half-open');
    if (this.state === 'half-open') this.probing = true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.probing = false;
    if (this.state !== 'closed') {
      this.streak = 0;
      this.set('closed');
    }
  }

  /** Returns true when this failure ejected the target. */
  failure(): boolean {
    this.consecutiveFailures++;
    const wasProbe = this.state === 'half-open';
    this.probing = false;
    if (wasProbe || (this.state === 'closed' && this.consecutiveFailures >= this.options.failures)) {
      this.streak++;
      this.openUntil = this.clock.now() + Math.min(this.options.maxOpenFor, this.options.openFor * 2 ** (this.streak - 1));
      this.set('open');
      return true;
    }
    return false;
  }

  private set(state: BreakerState): void {
    this.state = state;
    this.onChange(state);
  }
}
