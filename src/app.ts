import type { DestinationStream } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AuditSink } from './audit/sink.js';
import { systemClock } from './core/clock.js';
import type { Clock } from './core/clock.js';
import { EventBus } from './core/bus.js';
import { Lifecycle, settledBy } from './core/lifecycle.js';
import { AlertingService } from './alerting/alerting-service.js';
import { loadAckKey } from './alerting/ack.js';
import { registerAlertRoutes } from './console/alerts-routes.js';
import { ActionRunner } from './alerting/actions.js';
import { RuleEngine } from './alerting/rule-engine.js';
import { MonitorService } from './monitor/monitor-service.js';
import type { LoadedConfig } from './config/load.js';
import { registerHeartbeatRoute } from './console/heartbeat.js';
import { registerMonitorRoutes } from './console/monitors-routes.js';
import { ConsoleServer } from './console/server.js';
import { GatewayServer } from './gateway/server.js';
import { JwtTrust } from './gateway/jwt-trust.js';
import { KeyCache, loadKeyHashSecret } from './identity/api-keys.js';
import type { ApiKeyService } from './identity/api-keys.js';
import { deriveCsrfKey } from './protection/csrf.js';
import { Identity } from './identity/index.js';
import { openIdentity } from './identity/open.js';
import { BatchWriter } from './store/batch-writer.js';
import { AccessRetention } from './store/access-retention.js';
import type { AccessRecord } from './store/records.js';
import { resolveDataDir } from './store/data-dir.js';
import type { Store } from './store/store.js';
import { accessLogFor, createLogger } from './telemetry/logger.js';
import type { Logger } from './telemetry/logger.js';
import { createMetricsRegistry } from './telemetry/metrics.js';
import { SecretScrubber } from './telemetry/redact.js';
import { Tracing } from './telemetry/tracing.js';
import { openVault } from './vault/open.js';
import { registerSecretRoutes } from './vault/routes.js';
import { registerAuditRoutes } from './audit/routes.js';
import { maskPii } from './pii/detectors.js';
import type { PiiTokenizer } from './pii/tokenize.js';
import { TrafficProtection } from './protection/rate-limit-protection.js';
import { BanService } from './protection/bans.js';
import { registerBanRoutes } from './protection/bans-routes.js';
import type { VaultParts } from './vault/open.js';

/** Reported as `service.version` in traces. */
const VIGIL_VERSION = '0.1.0';

/**
 * The store gets at least this long to close, even when earlier components used the whole shutdown
 * budget: a healthy access record thread writes its last batch in a few milliseconds.
 */
const STORE_CLOSE_GRACE_MS = 500;

export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Shown the bootstrap owner's one-time password, once, on the first start; nowhere else sees it. */
  onBootstrapOwner?: (username: string, password: string) => void;
  /** Log destination; stdout when absent. */
  logDestination?: DestinationStream;
}

/** One Vigil process: every component, started in order and stopped in reverse. */
export class App {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly bus: EventBus;
  readonly audit: AuditSink;
  /** The vault, the secret store and the durable audit log (which `audit` is). */
  readonly vault: VaultParts;
  readonly store: Store;
  readonly keys: ApiKeyService;
  readonly keyCache: KeyCache;
  readonly identity: Identity;
  readonly gateway: GatewayServer;
  /** Present when `tracing.enabled`. */
  readonly tracing: Tracing | undefined;
  readonly console: ConsoleServer;
  readonly monitor: MonitorService;
  readonly alerting: AlertingService;
  readonly alertRules: RuleEngine;
  readonly protection: TrafficProtection;
  readonly bans: BanService;
  private readonly lifecycle = new Lifecycle();
  private readonly registerSecret: (value: string) => void;
  private readonly accessWriter: BatchWriter<AccessRecord>;
  /** Deletes access records past `store.accessRetention`, in small batches every minute. */
  readonly accessRetention: AccessRetention;
  private stopping: Promise<void> | undefined;

  constructor(readonly loaded: LoadedConfig, options: AppOptions = {}) {
    const env = options.env ?? process.env;
    const clock = options.clock ?? systemClock;
    const { config } = loaded;
    const piiKinds = new Set(config.log.maskPii);
    const scrubber = new SecretScrubber(piiKinds.size > 0 ? (line) => maskPii(line, piiKinds) : undefined);
    for (const value of loaded.secretValues) scrubber.add(value);
    this.registerSecret = (value) => scrubber.add(value);
    this.logger = createLogger({ ...config.log, scrubber, destination: options.logDestination });
    this.registry = createMetricsRegistry();
    this.bus = new EventBus((event, err) => this.logger.error({ err, event }, 'event listener failed'));
    const accessLost = new Counter({
      name: 'vigil_store_access_records_lost_total',
      help: 'Access records never stored: reason write_failed (the batch failed or was abandoned at shutdown) or queue_full.',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    const accessWriterRestarts = new Counter({
      name: 'vigil_store_access_writer_restarts_total',
      help: 'Times the access record writer thread was started again after it stopped (crashed, or could not open the database).',
      registers: [this.registry],
    });
    const identity = openIdentity(loaded, env, {
      restarted: () => accessWriterRestarts.inc(),
      abandoned: (lost) => this.logger.warn({ code: 'VGL_SHUTDOWN_TIMEOUT', lost }, 'store close deadline reached; the access record writer thread was ended with records unwritten'),
    });
    this.store = identity.store;
    this.keys = identity.keys;
    this.vault = openVault({ store: this.store, dataDir: resolveDataDir(loaded, env), config, env, clock, logger: this.logger });
    this.audit = this.vault.audit;
    this.keyCache = new KeyCache(this.store.keys, this.keys, (err) => this.logger.error({ err }, 'key refresh failed'));
    // Resolved once: a full queue drops a record per gateway request.
    const queueFull = accessLost.labels({ reason: 'queue_full' });
    this.accessRetention = new AccessRetention(
      this.store.access,
      clock,
      { retentionMs: config.store.accessRetention, batch: 2000, maxBatches: 50 },
      (err) => this.logger.error({ err }, 'access record pruning failed'),
    );
    this.accessWriter = new BatchWriter<AccessRecord>(
      (batch) => this.store.access.appendMany(batch),
      (err, lost) => {
        accessLost.inc({ reason: 'write_failed' }, lost);
        this.logger.error({ err, lost }, 'access records could not be written');
      },
      { intervalMs: 250, maxBatch: 500, maxQueue: 50_000 },
      () => queueFull.inc(),
    );
    const securityEvents = new Counter({
      name: 'vigil_security_events_total',
      help: 'Security events recorded, by type and severity.',
      labelNames: ['type', 'severity'],
      registers: [this.registry],
    });
    this.identity = new Identity(config.identity, resolveDataDir(loaded, env), this.store, this.keys, this.audit, this.logger.child({ component: 'identity' }), (event) => {
      securityEvents.inc({ type: event.type, severity: event.severity });
      this.bus.emit('security.event', event);
    }, piiKinds.size > 0 ? (text) => maskPii(text, piiKinds) : undefined);
    // Export headers usually carry the collector's token: never logged, whatever their source.
    for (const value of Object.values(config.tracing.headers)) scrubber.add(value);
    this.tracing = config.tracing.enabled
      ? new Tracing({ config: config.tracing, logger: this.logger, scrub: accessLogFor(this.logger).scrub, serviceVersion: VIGIL_VERSION })
      : undefined;
    let piiTokenizer: Promise<PiiTokenizer> | undefined;
    const protectionLog = this.logger.child({ component: 'protection' });
    this.protection = new TrafficProtection(config, { logger: protectionLog, clock, securityEvents: this.identity.events });
    const redis = this.protection.redisClient;
    this.bans = new BanService(config.bans, {
      repo: this.store.bans,
      clock,
      logger: protectionLog,
      securityEvents: this.identity.events,
      bus: this.bus,
      ipv6Prefix: config.protection.ipv6Prefix,
      redis: redis && config.protection.redis ? { client: redis, prefix: config.protection.redis.keyPrefix } : undefined,
    });
    this.protection.useBans(this.bans);
    this.gateway = new GatewayServer({
      config,
      keys: this.keyCache,
      logger: this.logger,
      registry: this.registry,
      clock,
      securityEvents: this.identity.events,
      jwt: new JwtTrust(config, this.identity.signingKeys, this.logger.child({ component: 'gateway' })),
      tracing: this.tracing,
      piiTokenizer: () => (piiTokenizer ??= this.vault.pii().then(
        ({ tokenizer }) => tokenizer,
        (err: unknown) => {
          piiTokenizer = undefined;
          throw err;
        },
      )),
      protection: this.protection,
      onAccess: (record) => {
        this.accessWriter.push(record);
        this.bus.emit('access.record', record);
      },
    });
    const services = { config, store: this.store, bus: this.bus, registry: this.registry, logger: this.logger, clock };
    this.monitor = new MonitorService(services);
    const ackKey = loadAckKey(resolveDataDir(loaded, env));
    this.alerting = new AlertingService({
      ...services,
      ackKey,
      digestSources: {
        uptime: async (now) => {
          const out = [];
          for (const check of config.monitor.checks) out.push({ check: check.name, uptime: (await this.monitor.history.uptimes(check.name, now))['24h'] });
          return out;
        },
      },
    });
    const actions = new ActionRunner({ runs: this.store.alertActions, audit: this.audit, clock, logger: this.logger, gateway: this.gateway });
    this.alertRules = new RuleEngine({ ...services, actions });
    this.console = new ConsoleServer({ config, logger: this.logger, registry: this.registry, health: this.monitor, identity: this.identity, now: () => clock.now(), csrfKey: deriveCsrfKey(loadKeyHashSecret(resolveDataDir(loaded, env))) });
    registerHeartbeatRoute(this.console.app, this.monitor.heartbeats, () => clock.now());
    registerMonitorRoutes(this.console.app, this.monitor, () => clock.now());
    registerSecretRoutes(this.console.app, this.vault.secrets);
    registerBanRoutes(this.console.app, this.bans, this.identity, () => clock.now());
    registerAuditRoutes(this.console.app, this.store.audit, this.vault.audit);
    registerAlertRoutes(this.console.app, { alerting: this.alerting, store: this.store, audit: this.audit, ackKey, now: () => clock.now() });

    this.lifecycle.add({
      name: 'store',
      start: async () => {
        await this.vault.ready();
        await this.keyCache.start(250);
        this.accessRetention.start(60_000);
      },
      stop: async (deadline) => {
        await this.keyCache.stop();
        const until = Math.max(deadline, Date.now() + STORE_CLOSE_GRACE_MS);
        // Both wait on the access record thread; past `until` the store's close ends it and rejects
        // what it had, which these report as lost.
        const writes = Promise.all([this.accessRetention.stop(), this.accessWriter.flush()]);
        await settledBy(writes, until);
        await this.store.close(until);
        await writes;
      },
    });
    this.lifecycle.add({
      name: 'identity',
      start: async () => {
        await this.identity.start(() => clock.now(), (err) => this.logger.error({ err }, 'signing key rotation failed'));
        const created = await this.identity.users.bootstrapOwner(clock.now());
        if (!created) return;
        this.logger.warn({ user: created.user.username }, 'created the bootstrap owner; its one-time password is shown once on the terminal');
        options.onBootstrapOwner?.(created.user.username, created.password);
      },
      stop: async () => this.identity.stop(),
    });
    // Alerting listens before the rule engine publishes, which listens before the monitor produces
    // results; they stop in reverse.
    this.lifecycle.add(this.alerting);
    this.lifecycle.add(this.alertRules);
    this.lifecycle.add(this.monitor);
    this.lifecycle.add(this.console);
    // Stopped after the gateway, so the spans of drained requests are flushed too.
    if (this.tracing) this.lifecycle.add(this.tracing);
    this.lifecycle.add({
      name: 'protection',
      start: async () => {
        await this.protection.start();
        await this.bans.start();
      },
      stop: async () => {
        await this.bans.stop();
        await this.protection.stop();
      },
    });
    this.lifecycle.add(this.gateway);
  }

  /** Applies a re-read configuration's gateway routes (SIGHUP); its secret values are scrubbed from logs first. */
  async reloadRoutes(next: LoadedConfig): Promise<void> {
    for (const value of next.secretValues) this.registerSecret(value);
    await this.gateway.reload(next.config);
  }

  async start(): Promise<void> {
    await this.lifecycle.start();
    this.logger.info({ source: this.loaded.source }, 'vigil started');
  }

  /** Graceful stop within the configured shutdown timeout; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.loaded.config.shutdown.timeout;
    await this.lifecycle.stop(deadline);
    this.logger.info('vigil stopped');
    this.logger.flush();
  }
}
