#!/usr/bin/env node
import { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerDemo } from './demo.js';
import { registerKeys } from './keys.js';
import { registerUsers } from './users.js';
import { registerStart } from './start.js';
import { registerSecrets } from './secrets.js';
import { registerEnvAndDoctor } from './env.js';
import { registerAudit } from './audit.js';
import { registerReload } from './reload.js';
import { registerBans } from './bans.js';
import { registerAlerts } from './alerts.js';
import { registerEvents } from './events.js';

const program = new Command('vigil')
  .description('Vigil: the security and operations layer for AI agent stacks')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

// Each register* declares its commands and options only; a command's implementation (src/cli/actions/)
// is imported when that command runs (lazyAction), so no command pays for the modules of the others.
registerStart(program);
registerDemo(program);
registerConfig(program);
registerKeys(program);
registerEnvAndDoctor(program);
registerUsers(program);
registerSecrets(program);
registerAudit(program);
registerReload(program);
registerBans(program);
registerAlerts(program);
registerEvents(program);

await program.parseAsync(process.argv);
