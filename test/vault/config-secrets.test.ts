import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { ConfigError } from '../../src/config/load.js';
import { loadConfigWithSecrets } from '../../src/vault/config-secrets.js';
import { LogCapture, tempDir } from '../support/helpers.js';
import { openTestVault, who } from './support.js';

const CANARY = 'canary-vault-ref-8c2e-NEVER-LOG';

async function setup(body: (dataDir: string) => string) {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const v = await openTestVault({ dataDir });
  await v.secrets.set('HOOK_TOKEN', Buffer.from(CANARY), who);
  await v.store.close();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, body(dataDir));
  return { file, dataDir };
}

const withReceiver = (dataDir: string, ref: string) =>
  [
    `store: { dataDir: "${dataDir}" }`,
    'gateway: { listen: { port: 0 } }',
    'console: { listen: { port: 0 } }',
    'alerting:',
    `  receivers: [{ name: hook, type: webhook, url: "http://127.0.0.1:9/hook", headers: { authorization: "Bearer ${ref}" } }]`,
  ].join('\n');

describe('${secret:NAME} in the configuration', () => {
  it('resolves from the vault, audits the read, and the value never reaches the log', async () => {
    const { file } = await setup((d) => withReceiver(d, '${secret:HOOK_TOKEN}'));
    const loaded = await loadConfigWithSecrets(file, {});
    assert.equal((loaded.config.alerting.receivers[0] as { headers: Record<string, string> } | undefined)?.headers.authorization, `Bearer ${CANARY}`);
    assert.ok(loaded.secretValues.includes(CANARY));
    const log = new LogCapture();
    const app = new App(loaded, { env: {}, logDestination: log });
    await app.start();
    after(() => app.stop());
    app.logger.error({ err: new Error(`receiver rejected ${CANARY}`), detail: { value: CANARY } }, `delivery failed with ${CANARY}`);
    const entries = [];
    for await (const e of app.vault.audit.pages()) entries.push(e);
    await app.stop();
    assert.ok(log.lines.length > 0);
    assert.ok(!log.text.includes(CANARY), log.text);
    assert.ok(entries.some((e) => e.action === 'secrets.reveal' && e.actor === 'system:config' && e.target === 'HOOK_TOKEN' && e.result === 'success'));
  });

  it('a missing secret is a config error with its path and line, reported with the others', async () => {
    const { file } = await setup((d) => `${withReceiver(d, '${secret:NO_SUCH}')}\nlog: { level: loud }\n`);
    await assert.rejects(loadConfigWithSecrets(file, {}), (err: ConfigError) => {
      assert.ok(err instanceof ConfigError);
      const codes = err.issues.map((i) => `${i.code} ${i.path} ${i.line}`);
      assert.ok(codes.includes('VGL_CONFIG_SECRET_UNSET alerting.receivers[0].headers.authorization 5'), codes.join('\n'));
      assert.ok(codes.some((c) => c.startsWith('VGL_CONFIG_INVALID log.level')));
      assert.match(err.message, /secret 'NO_SUCH' is not in the vault/);
      return true;
    });
  });

  it('refuses secrets in the sections that locate the vault, and keeps $${ literal', async () => {
    const { file } = await setup((d) => `store: { dataDir: "${d}" }\naudit: { failClosed: "\${secret:HOOK_TOKEN}" }\n`);
    await assert.rejects(loadConfigWithSecrets(file, {}), (err: ConfigError) => err.issues.some((i) => i.code === 'VGL_CONFIG_SECRET_UNSET' && i.path === 'audit.failClosed'));
    const literal = await setup((d) => withReceiver(d, '$${secret:HOOK_TOKEN}'));
    const loaded = await loadConfigWithSecrets(literal.file, {});
    assert.equal((loaded.config.alerting.receivers[0] as { headers: Record<string, string> } | undefined)?.headers.authorization, 'Bearer ${secret:HOOK_TOKEN}');
  });
});
