// RPC_TARGETS (docs/workloads.md#rpc-to-gateway-children): `children`/`all` only with the gateway
// workload (refused naming the key otherwise), and a run whose rpc calls only the children connects
// no `tokens.json` devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { fleetParts } from '../../src/lab/run-fleet.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

test('RPC_TARGETS: children/all need the gateway workload; calling only the children needs no device sessions', () => {
  const cwd = tmpDir(fileScope, 'tblab-rpc-targets-');
  const load = (flags: Record<string, unknown>) => loadConfig({ cwd, env: {}, envFile: false, flags });
  const parts = (flags: Record<string, unknown>) => {
    const r = load(flags);
    assert.ok(r.ok, JSON.stringify(flags));
    return fleetParts(r.config);
  };
  assert.deepEqual(parts({ WORKLOADS: 'rpc' }), { devices: true, gateways: false });
  const def = load({ WORKLOADS: 'rpc' });
  assert.ok(def.ok && def.config.rpcTargets === 'devices', 'the default');
  assert.deepEqual(parts({ WORKLOADS: 'gateway,rpc' }), { devices: true, gateways: true }, 'devices: the tokens.json devices answer');
  assert.deepEqual(parts({ WORKLOADS: 'gateway,rpc', RPC_TARGETS: 'children' }), { devices: false, gateways: true });
  assert.deepEqual(parts({ WORKLOADS: 'gateway,rpc', RPC_TARGETS: 'all' }), { devices: true, gateways: true });
  assert.deepEqual(parts({ WORKLOADS: 'gateway,rpc,attributes', RPC_TARGETS: 'children' }), { devices: true, gateways: true });
  for (const [flags, re] of [
    [{ WORKLOADS: 'rpc', RPC_TARGETS: 'children' }, /devices unless gateway is in WORKLOADS/],
    [{ WORKLOADS: 'device,rpc', RPC_TARGETS: 'all' }, /devices unless gateway is in WORKLOADS/],
    [{ WORKLOADS: 'gateway,rpc', RPC_TARGETS: 'kids' }, /devices|children|all/],
  ] as const) {
    const r = load(flags);
    assert.ok(!r.ok, JSON.stringify(flags));
    assert.equal(r.problems[0].key, 'RPC_TARGETS');
    assert.match(r.problems[0].expected, re);
  }
});
