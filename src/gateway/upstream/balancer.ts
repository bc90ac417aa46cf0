import type { UpstreamTarget } from './target.js';

export type BalanceStrategy = 'round-robin' | 'least-in-flight' | 'peak-ewma';

/** Smooth weighted round-robin (as nginx): spreads a 3:1 weighting as a,a,b,a rather than a,a,a,b. */
function weightedRoundRobin(candidates: UpstreamTarget[]): UpstreamTarget {
  let total = 0;
  let best = candidates[0] as UpstreamTarget;
  for (const target of candidates) {
    target.currentWeight += target.weight;
    total += target.weight;
    if (target.currentWeight > best.currentWeight) best = target;
  }
  best.currentWeight -= total;
  return best;
}

function leastInFlight(candidates: UpstreamTarget[], random: () => number): UpstreamTarget {
  let best: UpstreamTarget[] = [];
  let lowest = Infinity;
  for (const target of candidates) {
    const load = target.inFlight / target.weight;
    if (load < lowest) {
      lowest = load;
      best = [target];
    } else if (load === lowest) best.push(target);
  }
  return best[Math.floor(random() * best.length)] as UpstreamTarget;
}

/** Power of two choices on peak-EWMA cost: near-optimal, with no herd onto one "best" target. */
function peakEwma(candidates: UpstreamTarget[], random: () => number): UpstreamTarget {
  if (candidates.length === 1) return candidates[0] as UpstreamTarget;
  const i = Math.floor(random() * candidates.length);
  let j = Math.floor(random() * (candidates.length - 1));
  if (j >= i) j++;
  const a = candidates[i] as UpstreamTarget;
  const b = candidates[j] as UpstreamTarget;
  return a.cost() / a.weight <= b.cost() / b.weight ? a : b;
}

/**
 * Picks the target for the next attempt among those whose breaker admits a request: primaries
 * first, the fallback targets only when no primary is available. Undefined when none is.
 */
export function pickTarget(
  targets: readonly UpstreamTarget[],
  strategy: BalanceStrategy,
  exclude: UpstreamTarget | undefined,
  random: () => number = Math.random,
): UpstreamTarget | undefined {
  if (targets.length === 1) {
    // The common single-target route: no candidate lists to build.
    const only = targets[0] as UpstreamTarget;
    if (!only.healthy || !only.breaker.canAttempt()) return undefined;
    only.breaker.acquire();
    return only;
  }
  for (const fallback of [false, true]) {
    let candidates = targets.filter((t) => t.fallback === fallback && t.healthy && t.breaker.canAttempt());
    // A retry prefers another target than the one that just failed, when there is one.
    if (exclude && candidates.length > 1) candidates = candidates.filter((t) => t !== exclude);
    if (candidates.length === 0) continue;
    const chosen =
      strategy === 'round-robin' ? weightedRoundRobin(candidates) : strategy === 'least-in-flight' ? leastInFlight(candidates, random) : peakEwma(candidates, random);
    chosen.breaker.acquire();
    return chosen;
  }
  return undefined;
}
