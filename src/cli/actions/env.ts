import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { resolveDataDir } from '../../store/data-dir.js';
import { VigilError } from '../../core/errors.js';
import { runDoctor as doctorFindings } from '../../vault/doctor.js';
import { checkEnv, parseTemplate } from '../../vault/env-check.js';
import { defaultMasterKeyFile } from '../../vault/master-key.js';
import { loadVaultLocation } from '../../vault/config-secrets.js';

const MAX_FILE = 1024 * 1024;

function readText(path: string, what: string): string {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    throw new VigilError('VGL_FILE_INVALID', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if (text.length > MAX_FILE) throw new VigilError('VGL_FILE_INVALID', `${what} ${path} is larger than ${MAX_FILE} bytes`);
  return text.toString('utf8');
}

export function runCheck(opts: { template: string; envFile?: string }): void {
  const { vars, errors } = parseTemplate(readText(opts.template, 'template'));
  if (errors.length > 0) throw new VigilError('VGL_FILE_INVALID', `${opts.template}: ${errors.join('; ')}`);
  const values = opts.envFile === undefined ? process.env : parseEnv(readText(opts.envFile, 'env file'));
  const findings = checkEnv(vars, values);
  for (const f of findings) console.error(`${f.name} (template line ${f.line}) ${f.problem}; fix: ${f.fix}`);
  if (findings.length > 0) {
    console.error(`${findings.length} of ${vars.length} variable(s) need attention`);
    process.exitCode = 1;
  } else {
    console.log(`${vars.length} variable(s) ok`);
  }
}

export function runDoctor(opts: { config?: string; project: string; json?: boolean }): void {
  const loaded = loadVaultLocation(opts.config, process.env);
  const dataDir = resolveDataDir(loaded, process.env);
  const fromEnv = (process.env.VIGIL_MASTER_KEY ?? '') !== '';
  const findings = doctorFindings({
    dataDir,
    masterKeyFile: fromEnv ? undefined : resolve(loaded.config.vault.masterKeyFile ?? defaultMasterKeyFile(dataDir)),
    configFile: opts.config,
    projectDir: opts.project,
  });
  if (opts.json) console.log(JSON.stringify(findings));
  else if (findings.length === 0) console.log('no problems found');
  else for (const f of findings) console.log(`${f.severity.toUpperCase()} ${f.path}: ${f.problem}\n  fix: ${f.fix}`);
  if (findings.length > 0) process.exitCode = 1;
}
