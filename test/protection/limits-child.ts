// One gateway instance in its own process, for the cluster test: prints its URL; the test kills it.
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { Writable } from 'node:stream';

const config = process.argv[2] ?? '{}';
const app = new App(parseConfig(config, 'child.yaml', {}), { env: {}, logDestination: new Writable({ write: (_chunk, _enc, done) => done() }) });
await app.start();
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${app.gateway.address().port}` })}\n`);
