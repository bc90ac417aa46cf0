import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKey } from '../store/records.js';
import type { CompiledRoute } from './router.js';

/** Everything one request carries through the stage pipeline. */
export interface GatewayContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly route: CompiledRoute;
  /** Request target as received (path and query). */
  readonly target: string;
  readonly startedAt: number;
  readonly clientIp: string;
  /** True when the client connected over TLS (sets the forwarded proto). */
  readonly tls: boolean;
  /** Set by the authenticate stage. */
  key: ApiKey | null;
}

/**
 * One step of the request pipeline. It may end the request by throwing a VigilError; returning
 * (or resolving) lets the request continue to the next stage.
 */
export type Stage = (ctx: GatewayContext) => void | Promise<void>;
