import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { VIGIL_ISSUER } from '../config/gateway-auth-schema.js';
import type { VigilConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import { ACCEPTED_ALGORITHMS, ACCESS_TYP } from '../identity/tokens.js';
import type { SigningKeys } from '../identity/signing-keys.js';
import type { Logger } from '../telemetry/logger.js';

type ExternalIssuerConfig = VigilConfig['gateway']['jwt']['issuers'][number];

/** Who a verified JWT names, in the shape the authorize stage and the identity headers need. */
export interface JwtCaller {
  /** The issuer's configured name (`vigil` for Vigil's own tokens). */
  issuer: string;
  subject: string;
  scopes: string[];
  roles: string[];
  claims: JWTPayload;
}

/** Longest token looked at; anything longer is refused before it is parsed. */
const MAX_TOKEN_CHARS = 8192;

/** One issuer the gateway trusts: how its tokens are checked and where its claims are read. */
interface Issuer {
  readonly name: string;
  readonly keys: JWTVerifyGetKey;
  readonly options: JWTVerifyOptions;
  readonly rolesClaim: string;
  readonly scopeClaim: string;
  /** Vigil's own tokens: only access tokens (`typ` at+jwt and `token_use` access). */
  readonly accessOnly: boolean;
  /** External issuers: fetch state, so a dead JWKS URL costs one fetch per cooldown, not one per request. */
  readonly remote?: RemoteKeys;
}

/**
 * An external issuer's key set: jose's remote JWK set, never stale by age (so a request never waits
 * for a routine refresh), re-fetched in the background every `refreshInterval` (a failed fetch keeps
 * the keys it had), and on an unknown `kid` at most once per `cooldown` (jose's cooldown). After a
 * failed fetch, the keys held are used alone for one `cooldown`, so unknown kids sent while the
 * issuer is down cannot make a fetch per request either.
 */
class RemoteKeys {
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private loaded = false;
  private failedAt = -Infinity;
  /** The keys held when a fetch last failed, used without fetching until the cooldown ends. */
  private held: JWTVerifyGetKey | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly config: ExternalIssuerConfig,
    private readonly logger: Logger,
  ) {
    this.remote = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: config.timeout,
      cooldownDuration: config.cooldown,
      cacheMaxAge: Infinity,
      headers: { 'user-agent': 'vigil-gateway' },
    });
    this.timer = setInterval(() => void this.refresh(), config.refreshInterval).unref();
  }

  /** The verification key for a token header: from the keys held, fetching only as described above. */
  readonly get: JWTVerifyGetKey = async (header, token) => {
    if (this.held && Date.now() - this.failedAt < this.config.cooldown) return this.held(header, token);
    try {
      return await this.remote(header, token);
    } catch (err) {
      // A lookup miss is the token's fault; anything else is the fetch jose made for an unknown kid.
      if (!(err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported)) this.failed(err);
      throw err;
    }
  };

  /** Fetches the key set now; failures are logged and keep the keys already held. */
  async refresh(): Promise<void> {
    try {
      await this.remote.reload();
      this.loaded = true;
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.failedAt = Date.now();
    const jwks = this.remote.jwks();
    this.held = jwks ? createLocalJWKSet(jwks) : undefined;
    this.logger.warn(
      { code: 'VGL_AUTH_ISSUER_UNAVAILABLE', issuer: this.config.name, jwksUrl: this.config.jwksUrl, reason: reasonOf(err) },
      this.loaded ? 'JWKS refresh failed; keeping the keys already fetched' : 'JWKS fetch failed; tokens of this issuer cannot be verified yet',
    );
  }

  /** Before a verification: without any keys yet, fetch (at most once per cooldown) or fail fast. */
  async ready(): Promise<void> {
    if (this.loaded) return;
    if (Date.now() - this.failedAt < this.config.cooldown || !(await this.refresh().then(() => this.loaded))) {
      throw new VigilError('VGL_AUTH_ISSUER_UNAVAILABLE', `the key set of issuer '${this.config.name}' cannot be fetched; try again later`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** jose's error code for a failed check (never the token itself), or a short description. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JOSEError) return err.code;
  return err instanceof Error ? err.name : 'error';
}

/** A claim by name, or by a dotted path into nested objects. */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (!path.includes('.')) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A string claim split on spaces (OAuth `scope`), or a list claim's string members. */
function stringsAt(payload: JWTPayload, path: string, split: boolean): string[] {
  const value = claimAt(payload, path);
  if (typeof value === 'string') return split ? value.split(' ').filter((s) => s !== '') : [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The JWT issuers the gateway trusts: Vigil's own (its signing keys, held in memory) and external
 * ones by JWKS URL. A token is matched to its issuer by its `iss`, then verified with only that
 * issuer's keys, audience and algorithm allow-list. Keys are chosen by `kid` from the issuer's set;
 * `jku`, `jwk` and `x5u` headers are never followed. No request waits on the network except the
 * first for an issuer not fetched yet and an unknown `kid` outside the cooldown.
 */
export class JwtTrust {
  /** By `iss` value. */
  private byIss = new Map<string, Issuer>();
  private remotes = new Map<string, RemoteKeys>();

  constructor(
    config: VigilConfig,
    private readonly signingKeys: SigningKeys | undefined,
    private readonly logger: Logger,
  ) {
    this.update(config);
  }

  /**
   * Applies a (re)loaded configuration. External issuers whose settings did not change keep their
   * fetched keys; new ones are fetched in the background at once.
   */
  update(config: VigilConfig): void {
    const { jwt } = config.gateway;
    const byIss = new Map<string, Issuer>();
    if (jwt.vigil && this.signingKeys) {
      const keys = this.signingKeys;
      const { issuer, audience } = config.identity.tokens;
      byIss.set(issuer, {
        name: VIGIL_ISSUER,
        keys: (header, token) => keys.keySet()(header, token),
        options: { issuer, audience, algorithms: ACCEPTED_ALGORITHMS, typ: ACCESS_TYP, clockTolerance: jwt.vigilClockSkew / 1000, requiredClaims: ['exp', 'sub'] },
        rolesClaim: 'role',
        scopeClaim: 'scope',
        accessOnly: true,
      });
    }
    const remotes = new Map<string, RemoteKeys>();
    for (const issuer of jwt.issuers) {
      const key = JSON.stringify(issuer);
      const remote = this.remotes.get(key) ?? new RemoteKeys(issuer, this.logger);
      if (!this.remotes.has(key)) void remote.refresh();
      remotes.set(key, remote);
      byIss.set(issuer.issuer, {
        name: issuer.name,
        keys: remote.get,
        options: {
          issuer: issuer.issuer,
          audience: issuer.audience,
          algorithms: issuer.algorithms,
          clockTolerance: issuer.clockSkew / 1000,
          requiredClaims: ['exp', 'sub'],
          ...(issuer.tokenType === undefined ? {} : { typ: issuer.tokenType }),
        },
        rolesClaim: issuer.rolesClaim,
        scopeClaim: issuer.scopeClaim,
        accessOnly: false,
        remote,
      });
    }
    for (const [key, remote] of this.remotes) if (!remotes.has(key)) remote.stop();
    this.remotes = remotes;
    this.byIss = byIss;
  }

  stop(): void {
    for (const remote of this.remotes.values()) remote.stop();
  }

  /**
   * The caller a valid token names. `accepted`: the issuer names a route accepts (empty: all).
   * Throws VGL_AUTH_INVALID saying which check failed, or VGL_AUTH_ISSUER_UNAVAILABLE.
   */
  async verify(token: string, accepted: readonly string[], now: number): Promise<JwtCaller> {
    if (token.length > MAX_TOKEN_CHARS) throw invalid('the token is too long');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw invalid('the token is not a well-formed JWT');
    }
    const issuer = typeof iss === 'string' ? this.byIss.get(iss) : undefined;
    if (!issuer || (accepted.length > 0 && !accepted.includes(issuer.name))) throw invalid('the token is not from an issuer this route trusts');
    await issuer.remote?.ready();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, { ...issuer.options, currentDate: new Date(now) }));
    } catch (err) {
      throw invalid(`the token failed verification (${reasonOf(err)})`, err);
    }
    if (issuer.accessOnly && payload.token_use !== 'access') throw invalid('only access tokens are accepted');
    return {
      issuer: issuer.name,
      subject: String(payload.sub),
      scopes: stringsAt(payload, issuer.scopeClaim, true),
      roles: stringsAt(payload, issuer.rolesClaim, false),
      claims: payload,
    };
  }
}

function invalid(message: string, cause?: unknown): VigilError {
  return new VigilError('VGL_AUTH_INVALID', message, cause === undefined ? undefined : { cause });
}
