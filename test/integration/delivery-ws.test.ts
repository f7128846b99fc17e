// The lab's WebSocket client against the emulator: `/api/ws` with the auth command, the fallback
// to the legacy endpoint when `/api/ws` is missing, snapshots skipped, updates delivered.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TelemetrySocket, type TsUpdate } from '../../src/thingsboard/ws.js';
import { LabError } from '../../src/common/errors.js';
import { startEmulator, rest, restLogin, createDevice } from '../helpers/emulator.js';
import { waitFor } from '../helpers/wait.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';

async function follow(t: TestContext, opts: EmulatorOptions) {
  const emu = await startEmulator(t, opts);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'lat-1', 'LAT1');
  // stored before the subscription: only in the snapshot, never reported as an update
  await rest(emu.restUrl, 'POST', '/api/v1/LAT1/telemetry', { body: { timestamp: 1, sequence: 0 } });
  const updates: TsUpdate[] = [];
  const notes: string[] = [];
  const socket = new TelemetrySocket({
    baseUrl: emu.restUrl,
    token: async () => token,
    subscriptions: [{ cmdId: 1, entityId: id, keys: ['timestamp', 'sequence'] }],
    onUpdate: (u) => updates.push(u),
    onNote: (m) => notes.push(m),
  });
  t.after(() => socket.close());
  return { emu, socket, updates, notes };
}

for (const current of [true, false]) {
  test(`TelemetrySocket ${current ? 'uses /api/ws' : 'falls back to the legacy endpoint'}; the snapshot is not an update`, async (t) => {
    const { emu, socket, updates, notes } = await follow(t, { wsCurrentEndpoint: current });
    assert.equal(await socket.open(), current ? '/api/ws' : '/api/ws/plugins/telemetry');
    if (!current) assert.match(notes.join('\n'), /\/api\/ws failed \(HTTP 404\).*legacy/);
    await rest(emu.restUrl, 'POST', '/api/v1/LAT1/telemetry', { body: { timestamp: 1234, sequence: 1, temperature: 20 } });
    await waitFor('one update', () => updates.length === 1);
    assert.deepEqual(updates[0].data, {
      sequence: [[updates[0].data.sequence[0][0], '1']],
      timestamp: [[updates[0].data.timestamp[0][0], '1234']],
    });
    assert.equal(socket.counts.updates, 1);
  });
}

test('TelemetrySocket: a server without the WebSocket API is a TARGET_UNREACHABLE with a hint', async (t) => {
  const emu = await startEmulator(t);
  const socket = new TelemetrySocket({
    baseUrl: `${emu.restUrl}/nothing-here`,
    token: async () => 'x',
    subscriptions: [{ cmdId: 1, entityId: 'x', keys: ['timestamp'] }],
    onUpdate: () => {},
  });
  t.after(() => socket.close());
  await assert.rejects(
    socket.open(),
    (e: unknown) => e instanceof LabError && e.code === 'TARGET_UNREACHABLE' && /LATENCY_SAMPLE=0/.test(e.hint ?? ''),
  );
});
