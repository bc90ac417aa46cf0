import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export type Severity = 'critical' | 'warning';

export interface DoctorFinding {
  severity: Severity;
  path: string;
  problem: string;
  fix: string;
}

export interface DoctorInput {
  dataDir: string;
  /** The master key file, when the key is not taken from VIGIL_MASTER_KEY. */
  masterKeyFile: string | undefined;
  configFile: string | undefined;
  /** Where to look for .env files (the project directory). */
  projectDir: string;
}

const mode = (stats: Stats): string => (stats.mode & 0o777).toString(8).padStart(4, '0');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'vigil-data']);
const ENV_FILE = /^\.env(\..+)?$/;
const ENV_TEMPLATE = /\.(example|sample|template|dist|defaults)$/;

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Looks for what leaves secrets open: loose modes, a readable master key, .env files git would commit. */
export function runDoctor(input: DoctorInput): DoctorFinding[] {
  const findings: DoctorFinding[] = [];
  const dataDir = resolve(input.dataDir);
  const dir = statOf(dataDir);
  if (dir && (dir.mode & 0o077) !== 0) {
    findings.push({ severity: 'critical', path: dataDir, problem: `data directory has mode ${mode(dir)}; others can reach the database and keys`, fix: `chmod 700 ${dataDir}` });
  }
  if (dir?.isDirectory()) {
    for (const name of readdirSync(dataDir)) {
      const path = join(dataDir, name);
      const stats = statOf(path);
      if (!stats?.isFile() || (stats.mode & 0o077) === 0) continue;
      const isKey = name.endsWith('.key') || name.includes('.key.');
      findings.push({
        severity: isKey || name.startsWith('vigil.db') ? 'critical' : 'warning',
        path,
        problem: `${isKey ? 'key file' : 'data file'} has mode ${mode(stats)}; group or others can read it`,
        fix: `chmod 600 ${path}`,
      });
    }
  }
  if (input.masterKeyFile !== undefined && !resolve(input.masterKeyFile).startsWith(`${dataDir}/`)) {
    const stats = statOf(input.masterKeyFile);
    if (stats && (stats.mode & 0o077) !== 0) {
      findings.push({ severity: 'critical', path: input.masterKeyFile, problem: `master key file has mode ${mode(stats)}; group or others can read every secret`, fix: `chmod 600 ${input.masterKeyFile}` });
    }
  }
  if (input.configFile !== undefined) {
    const stats = statOf(input.configFile);
    if (stats && (stats.mode & 0o022) !== 0) {
      findings.push({ severity: 'critical', path: input.configFile, problem: `config has mode ${mode(stats)}; group or others can change what Vigil does`, fix: `chmod 600 ${input.configFile}` });
    } else if (stats && (stats.mode & 0o004) !== 0) {
      findings.push({ severity: 'warning', path: input.configFile, problem: `config has mode ${mode(stats)}; every local user can read it`, fix: `chmod 640 ${input.configFile} (or 600)` });
    }
  }
  findings.push(...envFilesGitWouldCommit(input.projectDir));
  return findings;
}

/** `.env` files in the project that git tracks or would add: asks git itself (`check-ignore`, `ls-files`). */
function envFilesGitWouldCommit(projectDir: string): DoctorFinding[] {
  const root = resolve(projectDir);
  const inRepo = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' });
  if (inRepo.status !== 0) return [];
  const findings: DoctorFinding[] = [];
  for (const file of findEnvFiles(root, 0)) {
    const rel = relative(root, file);
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', '--', rel], { cwd: root, encoding: 'utf8' }).status === 0;
    if (tracked) {
      findings.push({ severity: 'critical', path: file, problem: 'is committed to git: its secrets are in the history', fix: `git rm --cached ${rel}, add it to .gitignore, and rotate every secret it held` });
      continue;
    }
    const ignored = spawnSync('git', ['check-ignore', '-q', '--', rel], { cwd: root }).status === 0;
    if (!ignored) findings.push({ severity: 'warning', path: file, problem: 'is not ignored by git: the next `git add .` commits it', fix: `add '${rel}' (or '.env*') to .gitignore` });
  }
  return findings;
}

function findEnvFiles(dir: string, depth: number): string[] {
  if (depth > 4) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) out.push(...findEnvFiles(join(dir, entry.name), depth + 1));
    else if (entry.isFile() && ENV_FILE.test(entry.name) && !ENV_TEMPLATE.test(entry.name)) out.push(join(dir, entry.name));
  }
  return out;
}
