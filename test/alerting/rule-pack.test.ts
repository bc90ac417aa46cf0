import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, startServer, waitFor } from '../support/helpers.js';

describe('the built-in rule pack', () => {
  it('uses only metric names a running Vigil exports, and a rule of yours replaces the pack rule of its name', async () => {
    const down = await startServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const { app, log } = await startApp({
      monitor: { checks: [{ name: 'api', type: 'http', url: down.url, interval: 100, timeout: 90 }] },
      alerting: { rulePack: 'default', rules: [{ name: 'vigil-check-down', kind: 'checkState', for: 0, severity: 'warning' }] },
    });
    const names = app.alertRules.rules.map((r) => r.name);
    assert.ok(names.includes('vigil-gateway-5xx-ratio') && names.includes('vigil-auth-failures') && names.includes('vigil-host-disk'), names.join(', '));
    assert.equal(names.filter((n) => n === 'vigil-check-down').length, 1, 'a rule of yours replaces the pack rule of that name');
    assert.doesNotMatch(log.text, /does not export/, 'every pack metric is registered');
    const alert = await waitFor(() => app.alertRules.openAlerts().find((a) => a.rule === 'vigil-check-down'), 'the check-down alert');
    assert.equal(alert.id, 'vigil-check-down{check="api"}');
    assert.deepEqual(alert.labels, { rule: 'vigil-check-down', check: 'api', severity: 'warning' });
  });
});
