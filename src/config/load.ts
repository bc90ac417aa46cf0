import { readFileSync } from 'node:fs';
import { isMap, isNode, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { VigilError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import { configSchema } from './schema.js';
import { isPlaceholder } from '../vault/placeholder.js';
import type { VigilConfig } from './schema.js';

export type ConfigPath = (string | number)[];

export interface ConfigIssue {
  code: ErrorCode;
  /** Dotted YAML path, e.g. `gateway.routes[0].upstream`; empty for the whole document. */
  path: string;
  line: number | undefined;
  message: string;
}

/** Thrown with every problem found at once, each with its YAML path and line. */
export class ConfigError extends VigilError {
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: ConfigIssue[]) {
    const code = issues[0]?.code ?? 'VGL_CONFIG_INVALID';
    super(code, `${source}: ${issues.length} problem(s)\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.path || '(root)'}${issue.line === undefined ? '' : ` (line ${issue.line})`}`;
  return `${where}: ${issue.message} [${issue.code}]`;
}

export interface LoadedConfig {
  config: VigilConfig;
  /** Values taken from environment variables whose names mark them as secret; the logger redacts them. */
  secretValues: string[];
  source: string;
}

const SECRET_VAR = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads, interpolates and validates a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError('VGL_CONFIG_NOT_FOUND', `cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  return parseConfig(text, file, env);
}

/** The defaults used when no config file is given. */
export function defaultConfig(): LoadedConfig {
  return parseConfig('{}', '(defaults)', {});
}

/**
 * `secrets` holds the values of the `${secret:NAME}` references in `text`, read from the vault by
 * the caller (see src/vault/config-secrets.ts); a reference missing from it is a config error.
 */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env, secrets?: ReadonlyMap<string, string>): LoadedConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigError(source, [{ code: 'VGL_CONFIG_PARSE', path: '', line: undefined, message: `file is larger than ${MAX_CONFIG_BYTES} bytes` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        code: 'VGL_CONFIG_PARSE',
        path: '',
        line: lines.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // The yaml library refuses alias expansions that would blow up memory ("billion laughs").
    throw new ConfigError(source, [{ code: 'VGL_CONFIG_PARSE', path: '', line: undefined, message: (err as Error).message }]);
  }
  const issues: ConfigIssue[] = [];
  const secretValues: string[] = [];
  const lineOf = (path: ConfigPath) => findLine(doc, lines, path);
  const interpolated = interpolate(raw, [], { env, secrets: secrets ?? new Map<string, string>() }, (path, message, code) => {
    issues.push({ code, path: formatPath(path), line: lineOf(path), message });
  }, secretValues);
  const envPaths = new Set(issues.map((i) => i.path));

  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      // A value with an unset variable is reported once, as such, not again as a malformed value.
      if (envPaths.has(formatPath(path))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push({ code: 'VGL_CONFIG_INVALID', path: formatPath([...path, key]), line: lineOf([...path, key]), message: 'unknown key' });
        }
      } else {
        issues.push({ code: 'VGL_CONFIG_INVALID', path: formatPath(path), line: lineOf(path), message: issue.message });
      }
    }
  }
  if (!result.success || issues.length > 0) throw new ConfigError(source, issues);
  return { config: deepFreeze(result.data), secretValues, source };
}

const PLACEHOLDER = /\$\$\{|\$\{secret:([^}]*)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const SECRET_REF = /\$\{secret:([^}]*)\}/g;

/** The secret names referenced as `${secret:NAME}` in a config text (a `$${secret:…}` literal included; harmless). */
export function secretReferences(text: string): string[] {
  return [...new Set([...text.matchAll(SECRET_REF)].map((m) => m[1] as string))];
}

type Sources = { env: NodeJS.ProcessEnv; secrets: ReadonlyMap<string, string> };

/** Replaces `${VAR}`, `${VAR:-default}` and `${secret:NAME}` in every string value; `$${` stays a literal `${`. */
function interpolate(
  value: unknown,
  path: ConfigPath,
  sources: Sources,
  report: (path: ConfigPath, message: string, code: ErrorCode) => void,
  secrets: string[],
): unknown {
  const env = sources.env;
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (match, secretName: string | undefined, varName: string | undefined, fallback: string | undefined) => {
      if (secretName !== undefined) {
        const found = sources.secrets.get(secretName);
        if (found === undefined) {
          report(path, `secret '${secretName.slice(0, 128)}' is not in the vault`, 'VGL_CONFIG_SECRET_UNSET');
          return match;
        }
        secrets.push(found);
        return found;
      }
      if (varName === undefined) return '${';
      const found = env[varName];
      if (found === undefined || found === '') {
        if (fallback !== undefined) return fallback;
        report(path, `environment variable ${varName} is not set`, 'VGL_CONFIG_ENV_UNSET');
        return match;
      }
      if (isPlaceholder(found)) {
        report(path, `environment variable ${varName} holds a placeholder, not a real value`, 'VGL_CONFIG_ENV_PLACEHOLDER');
        return found;
      }
      if (SECRET_VAR.test(varName) && found.length >= 4) secrets.push(found);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, [...path, i], sources, report, secrets));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, [...path, key], sources, report, secrets);
    return out;
  }
  return value;
}

/** The line of the YAML node at `path`, or of its nearest existing ancestor. */
function findLine(doc: Document, lines: LineCounter, path: ConfigPath): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const parent = prefix.length === 0 ? doc.contents : doc.getIn(prefix.slice(0, -1), true);
    const last = prefix[prefix.length - 1];
    if (prefix.length > 0 && isMap(parent)) {
      const pair = parent.items.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === last);
      const range = pair && isNode(pair.key) ? pair.key.range : undefined;
      if (range) return lines.linePos(range[0]).line;
    } else if (prefix.length > 0 && isSeq(parent) && typeof last === 'number') {
      const item = parent.items[last];
      if (isNode(item) && item.range) return lines.linePos(item.range[0]).line;
    } else if (prefix.length === 0 && isNode(parent) && parent.range) {
      return lines.linePos(parent.range[0]).line;
    }
  }
  return undefined;
}

function formatPath(path: ConfigPath): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
