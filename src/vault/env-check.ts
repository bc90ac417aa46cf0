import { parseDuration } from '../core/duration.js';
import { isPlaceholder } from './placeholder.js';

export type VarShape = 'url' | 'number' | 'duration' | 'key' | 'string';

export interface TemplateVar {
  name: string;
  shape: VarShape;
  required: boolean;
  line: number;
}

export interface EnvFinding {
  name: string;
  line: number;
  problem: string;
  fix: string;
}

const SHAPES: readonly VarShape[] = ['url', 'number', 'duration', 'key', 'string'];
const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=([^#]*)(?:#(.*))?$/;

/** The shape a variable's name suggests, when the template does not say. */
function shapeFromName(name: string): VarShape {
  if (/(_URL|_URI|_ENDPOINT)$/.test(name)) return 'url';
  if (/(_PORT|_COUNT|_MAX|_MIN|_LIMIT|_SIZE)$/.test(name)) return 'number';
  if (/(_TIMEOUT|_INTERVAL|_TTL)$/.test(name)) return 'duration';
  if (/(_KEY|_TOKEN|_SECRET|_PASSWORD)$/.test(name)) return 'key';
  return 'string';
}

/**
 * Parses a template in `.env.example` style: `NAME=example  # url, optional`. The comment may
 * name a shape (url, number, duration, key, string) and `optional`; otherwise the shape follows
 * the name and the variable is required. Malformed lines are reported, not skipped.
 */
export function parseTemplate(text: string): { vars: TemplateVar[]; errors: string[] } {
  const vars: TemplateVar[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) {
      errors.push(`line ${i + 1}: expected NAME=value [# shape, optional]`);
      return;
    }
    const words = (match[3] ?? '').split(/[,\s]+/).map((w) => w.toLowerCase()).filter(Boolean);
    const name = match[1] as string;
    const shape = (words.find((w) => (SHAPES as readonly string[]).includes(w)) as VarShape | undefined) ?? shapeFromName(name);
    vars.push({ name, shape, required: !words.includes('optional'), line: i + 1 });
  });
  return { vars, errors };
}

function shapeProblem(shape: VarShape, value: string): string | undefined {
  switch (shape) {
    case 'url':
      try {
        const url = new URL(value);
        return url.hostname === '' ? 'is not an absolute URL' : undefined;
      } catch {
        return 'is not an absolute URL';
      }
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(value.trim()) ? undefined : 'is not a number';
    case 'duration':
      return parseDuration(value) !== undefined || /^\d+$/.test(value.trim()) ? undefined : 'is not a duration (500ms, 2s, 5m, 1h, 7d)';
    case 'key':
      if (/\s/.test(value)) return 'contains whitespace, which a key never does';
      if (value.length < 16) return `is ${value.length} characters, too short for a key (16 or more)`;
      if (new Set(value).size < 6) return 'has too few distinct characters to be a real key';
      return undefined;
    case 'string':
      return undefined;
  }
}

/** Checks `env` against the template. Findings never contain values. */
export function checkEnv(vars: readonly TemplateVar[], env: NodeJS.ProcessEnv): EnvFinding[] {
  const findings: EnvFinding[] = [];
  for (const v of vars) {
    const value = env[v.name];
    const at = { name: v.name, line: v.line };
    if (value === undefined || value.trim() === '') {
      if (v.required) findings.push({ ...at, problem: value === undefined ? 'is not set' : 'is empty', fix: `set ${v.name} (a ${v.shape})` });
      continue;
    }
    if (isPlaceholder(value)) {
      findings.push({ ...at, problem: 'holds a placeholder, not a real value', fix: `replace the placeholder in ${v.name} with the real ${v.shape}` });
      continue;
    }
    const problem = shapeProblem(v.shape, value);
    if (problem) findings.push({ ...at, problem, fix: `set ${v.name} to a valid ${v.shape}` });
  }
  return findings;
}
