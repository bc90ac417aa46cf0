import type { AuditSink } from '../audit/sink.js';
import type { IdentityConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { ApiKeyService } from './api-keys.js';
import { LoginThrottle } from './lockout.js';
import { LoginService } from './login.js';
import { MfaService } from './mfa.js';
import { RoleTable } from './rbac.js';
import { SecurityEventRecorder } from './security-events.js';
import type { SecurityEventListener } from './security-events.js';
import { SessionService } from './sessions.js';
import { SigningKeys } from './signing-keys.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';

export { LoginLockedError } from './login.js';
export { PERMISSIONS, RoleTable } from './rbac.js';
export type { Permission } from './rbac.js';
export { SecurityEventRecorder } from './security-events.js';

/** Everything identity offers the console and the CLI, built once from the config and the store. */
export class Identity {
  readonly roles: RoleTable;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly throttle: LoginThrottle;
  readonly login: LoginService;
  readonly events: SecurityEventRecorder;
  readonly signingKeys: SigningKeys;
  readonly tokens: TokenService;
  readonly mfa: MfaService;
  private rotationTimer: NodeJS.Timeout | undefined;

  constructor(
    config: IdentityConfig,
    dataDir: string,
    readonly store: Store,
    readonly keys: ApiKeyService,
    readonly audit: AuditSink,
    logger: Logger,
    onSecurityEvent?: SecurityEventListener,
    /** PII masking applied to stored security events' details (the log's `maskPii` kinds). */
    maskPii?: (text: string) => string,
  ) {
    this.roles = new RoleTable(config.roles);
    this.users = new UserService(store.users, [store.sessions, store.refreshTokens], this.roles, config.passwords);
    this.sessions = new SessionService(store.sessions, store.users, config.sessions);
    this.throttle = new LoginThrottle(store.loginThrottle, config.lockout);
    this.events = new SecurityEventRecorder(store.securityEvents, logger, onSecurityEvent, maskPii);
    this.login = new LoginService(store.users, this.throttle, this.events);
    const { tokens } = config;
    // A retired key verifies for as long as the longest token it may have signed.
    this.signingKeys = new SigningKeys(dataDir, { algorithm: tokens.algorithm, rotation: tokens.keyRotation, retention: Math.max(tokens.accessTtl, tokens.refreshTtl) });
    this.mfa = new MfaService(store.mfa, dataDir, config.mfa);
    this.tokens = new TokenService(this.signingKeys, store.refreshTokens, store.users, this.events, tokens);
  }

  /** Loads the signing keys and checks hourly whether the next one is due. */
  async start(now: () => number, onError: (err: unknown) => void): Promise<void> {
    await this.signingKeys.open(now());
    this.rotationTimer = setInterval(() => {
      this.signingKeys.rotateIfDue(now()).catch(onError);
    }, 3_600_000).unref();
  }

  /** Stops the rotation check and stores the security events a coalescing window still holds back. */
  async stop(): Promise<void> {
    clearInterval(this.rotationTimer);
    await this.events.flush();
  }
}
