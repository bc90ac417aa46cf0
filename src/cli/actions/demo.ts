import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../config/load.js';
import { startDemoAgent, startDemoWebhookSink } from '../../demo/agent.js';
import { runUntilSignal } from './start.js';

const QUICKSTART = fileURLToPath(new URL('../../examples/quickstart.yaml', import.meta.url));

export async function runDemo(): Promise<void> {
  const loaded = loadConfigFile(QUICKSTART);
  await startDemoAgent('127.0.0.1', 7001);
  await startDemoWebhookSink('127.0.0.1', 7002, (body) => console.log(`\n[webhook] alert received: ${JSON.stringify(body)}\n`));
  await runUntilSignal(loaded, async (app) => {
    const { plaintext } = await app.keys.create({ name: 'demo', scopes: [], expiresAt: Date.now() + 86_400_000, now: Date.now() });
    const gw = app.gateway.address();
    const con = app.console.address();
    console.log(`
Vigil is running (config: ${QUICKSTART}).
  gateway  http://${gw.address}:${gw.port}    console http://${con.address}:${con.port}

A demo API key, valid for 24 hours:
  ${plaintext}

Try it:
  curl -N -H 'Authorization: Bearer ${plaintext}' http://127.0.0.1:${gw.port}/agents/chat
  curl -i http://127.0.0.1:${gw.port}/agents/chat                      # 401, coded JSON error
  curl http://127.0.0.1:${con.port}/healthz                            # every check
  curl -X POST http://127.0.0.1:7001/demo/fail                        # agent down: alert fires after 6s
  curl -X POST http://127.0.0.1:7001/demo/recover                     # resolved notice follows

Stop with Ctrl-C.`);
  });
}
