/**
 * Versioned schema. Append only: a released migration is never edited, a change is a new entry.
 * Index N holds the SQL that takes the schema from version N to N+1.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    rev INTEGER NOT NULL
  );
  CREATE INDEX api_keys_rev ON api_keys (rev);

  CREATE TABLE access_records (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    route TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    client_ip TEXT NOT NULL,
    key_id TEXT,
    error_code TEXT
  );
  CREATE INDEX access_records_at ON access_records (at);

  CREATE TABLE check_results (
    id INTEGER PRIMARY KEY,
    check_name TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX check_results_check_at ON check_results (check_name, at);

  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    labels TEXT NOT NULL,
    summary TEXT NOT NULL,
    pending_since INTEGER NOT NULL,
    fired_at INTEGER,
    resolved_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX alerts_state ON alerts (state);

  CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER
  );
  CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
  CREATE INDEX notifications_alert ON notifications (alert_id);
  `,
  // Vault: one row per secret version, each encrypted under its own data key, which is wrapped by
  // the master key named in master_key_id. Audit: the hash-chained log and its signed checkpoints.
  `
  CREATE TABLE secret_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    ciphertext BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    master_key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  );
  CREATE INDEX secret_versions_master ON secret_versions (master_key_id);

  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    source_ip TEXT,
    result TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );

  CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    at INTEGER NOT NULL,
    signature TEXT NOT NULL
  );
  `,
  // Identity: console users, their sessions (token hashes only), login failure counts and locks;
  // security events are shared with every capability that detects attacks.
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    source_ip TEXT NOT NULL
  );
  CREATE INDEX sessions_user ON sessions (user_id);

  CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX login_failures_subject_at ON login_failures (subject, at);

  CREATE TABLE login_locks (
    subject TEXT PRIMARY KEY,
    locked_until INTEGER NOT NULL,
    level INTEGER NOT NULL,
    locked_at INTEGER NOT NULL
  );

  CREATE TABLE security_events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    source_ip TEXT,
    identity TEXT,
    correlation_id TEXT,
    details TEXT NOT NULL
  );
  CREATE INDEX security_events_type_at ON security_events (type, at);
  `,
  // Identity: refresh-token families (jti only), for rotation and reuse detection.
  `
  CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
  `,
  // Monitor history: the measured value of a result, hourly rollups kept after raw results are
  // pruned, and the watermark up to which hours are rolled up.
  `
  ALTER TABLE check_results ADD COLUMN value REAL;
  CREATE INDEX check_results_at ON check_results (at);

  CREATE TABLE check_rollups (
    check_name TEXT NOT NULL,
    hour INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    up INTEGER NOT NULL,
    down INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    latency_p50 REAL NOT NULL,
    latency_p95 REAL NOT NULL,
    latency_p99 REAL NOT NULL,
    latency_max REAL NOT NULL,
    value_last REAL,
    value_min REAL,
    value_max REAL,
    PRIMARY KEY (check_name, hour)
  );
  CREATE INDEX check_rollups_hour ON check_rollups (hour);

  CREATE TABLE check_rollup_watermark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
  );
  `,
  // API keys: an owner label, batched last-use, and the key that replaced this one in a rotation.
  `
  ALTER TABLE api_keys ADD COLUMN owner TEXT;
  ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
  ALTER TABLE api_keys ADD COLUMN last_used_ip TEXT;
  ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
  `,
  // Monitor: one row per system sample (host and process), pruned with the raw check results.
  `
  CREATE TABLE system_samples (
    at INTEGER PRIMARY KEY,
    sample TEXT NOT NULL
  );
  `,
  // Identity: TOTP enrolments (sealed secrets, last accepted step), hashed single-use recovery
  // codes, and sessions that still owe their second factor.
  `
  CREATE TABLE user_mfa (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_box TEXT NOT NULL,
    enabled_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT -1
  );
  CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
  );
  ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
  `,
  // Alert delivery: the alert history, which notification carried which alert to whom (so
  // resolutions reach exactly those who heard the alert fire), acknowledgements, every delivery
  // attempt, and silences.
  `
  CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    severity TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
  CREATE INDEX alert_events_at ON alert_events (at);
  CREATE TABLE alert_receipts (
    alert_id TEXT NOT NULL,
    episode INTEGER NOT NULL,
    receiver TEXT NOT NULL,
    group_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    notification_id INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX alert_receipts_alert ON alert_receipts (alert_id, episode);
  CREATE TABLE alert_acks (
    alert_id TEXT NOT NULL,
    episode INTEGER NOT NULL,
    by TEXT NOT NULL,
    via TEXT NOT NULL,
    comment TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX alert_acks_alert ON alert_acks (alert_id, episode);
  CREATE TABLE delivery_attempts (
    notification_id INTEGER NOT NULL,
    receiver TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id);
  CREATE INDEX delivery_attempts_at ON delivery_attempts (at);
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expired_at INTEGER
  );
  `,
  // Alerting rules: what receivers need from an alert change (annotations, value, the state and
  // severity before it), keepFiringFor's clock, and one row per action run.
  `
  ALTER TABLE alerts ADD COLUMN annotations TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE alerts ADD COLUMN value REAL;
  ALTER TABLE alerts ADD COLUMN previous_state TEXT;
  ALTER TABLE alerts ADD COLUMN previous_severity TEXT;
  ALTER TABLE alerts ADD COLUMN cleared_at INTEGER;

  CREATE TABLE alert_action_runs (
    id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    action INTEGER NOT NULL,
    type TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX alert_action_runs_rule ON alert_action_runs (rule, action, started_at);
  CREATE INDEX alert_action_runs_alert ON alert_action_runs (alert_id);
  `,
  // Protection: the route a security event concerns, and time-ordered reads for the admin API.
  `
  ALTER TABLE security_events ADD COLUMN route TEXT;
  CREATE INDEX security_events_at ON security_events (at);
  `,
  // Protection: bans (address, network or identity), kept after expiry or removal so repeat
  // offences grow the next ban; `revision` lets other processes notice a change by polling.
  `
  CREATE TABLE bans (
    target TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    offences INTEGER NOT NULL,
    removed_at INTEGER,
    revision INTEGER NOT NULL
  );
  CREATE INDEX bans_revision ON bans (revision);
  `,
];
