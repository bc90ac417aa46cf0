import { createHash, timingSafeEqual } from 'node:crypto';

export type PingVerdict = 'accepted' | 'unknown-check' | 'bad-token';

/**
 * The last ping time of every heartbeat check, and the tokens that may ping them. Tokens are kept
 * as SHA-256 digests and compared in constant time, so neither memory dumps nor timing reveal them.
 */
export class HeartbeatBook {
  private readonly digests = new Map<string, Buffer>();
  private readonly lastPing = new Map<string, number>();

  register(check: string, token: string): void {
    this.digests.set(check, digest(token));
  }

  /** Records a ping when `token` belongs to `check`. An unknown check and a wrong token cost the same work. */
  ping(check: string, token: string, at: number): PingVerdict {
    const expected = this.digests.get(check);
    const offered = digest(token);
    const match = timingSafeEqual(expected ?? Buffer.alloc(offered.length), offered);
    if (expected === undefined) return 'unknown-check';
    if (!match) return 'bad-token';
    this.lastPing.set(check, at);
    return 'accepted';
  }

  last(check: string): number | undefined {
    return this.lastPing.get(check);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
