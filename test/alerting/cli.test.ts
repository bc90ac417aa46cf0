import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { cliWorkspace } from '../support/cli.js';

describe('vigil alerts', () => {
  // Five CLI runs; bad input is covered by the API test.
  it('silence add | list | expire, ack and history work on the data directory', async () => {
    const { dataDir, vigil } = cliWorkspace();
    const added = vigil(['alerts', 'silence', 'add', '--matcher', 'check="db"', '--matcher', 'severity!="critical"', '--duration', '2h', '--author', 'alice', '--comment', 'db migration', '--json']);
    assert.equal(added.status, 0, added.stderr);
    const silence = JSON.parse(added.stdout) as { id: string; matchers: string[]; author: string };
    assert.deepEqual(silence.matchers, ['check="db"', 'severity!="critical"']);
    assert.equal(silence.author, 'alice');

    // An alert to acknowledge and look up, as the running server would have stored it.
    const store = openSqliteStore(dataDir);
    const now = Date.now();
    await store.alerts.upsert({ id: 'db-down', rule: 'db-down', severity: 'critical', state: 'firing', labels: { check: 'db' }, summary: 'db is down', pendingSince: now, firedAt: now, resolvedAt: null, updatedAt: now });
    await store.alertLog.append({ alertId: 'db-down', at: now, event: 'firing', severity: 'critical', detail: 'db is down' });
    await store.close();

    const acked = vigil(['alerts', 'ack', 'db-down', '--comment', 'looking']);
    assert.equal(acked.status, 0, acked.stderr);
    assert.match(acked.stdout, /acknowledged db-down/);
    const expired = vigil(['alerts', 'silence', 'expire', silence.id]);
    assert.equal(expired.status, 0, expired.stderr);
    const history = vigil(['alerts', 'history', '--alert', 'db-down']);
    assert.equal(history.status, 0, history.stderr);
    assert.match(history.stdout, /^db-down firing critical/);
    assert.match(history.stdout, /acknowledged +by cli:\S+ via cli: looking/);
    const list = vigil(['alerts', 'silence', 'list', '--all', '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { id: string; state: string }[]).map((s) => [s.id, s.state]), [[silence.id, 'expired']]);
  });
});
