import { ConfigError, formatIssue } from '../../config/load.js';
import { loadConfigWithSecrets } from '../../vault/config-secrets.js';
import { printError } from '../output.js';

export async function runCheck(opts: { config: string }): Promise<void> {
  try {
    await loadConfigWithSecrets(opts.config, process.env);
    console.log(`${opts.config}: ok`);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${opts.config}: ${err.issues.length} problem(s)`);
      for (const issue of err.issues) console.error(`  ${formatIssue(issue)}`);
    } else {
      printError(err);
    }
    process.exitCode = 1;
  }
}
