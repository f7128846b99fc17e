// The --connect-capacity model with real MQTT clients. ThingsBoard validates a CONNECT's credentials
// through its transport API before the CONNACK (MqttTransportHandler.processAuthTokenConnect →
// TransportService.process); when that request times out, the callback's onError answers CONNACK
// CONNECTION_REFUSED_SERVER_UNAVAILABLE (3; MQTT 5 0x88) and closes the channel. Here a storm of
// CONNECTs queues for validation at the configured rate; those whose turn would come after the
// timeout are refused when it expires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startEmulator, restLogin, createDevice, fetchStats } from '../helpers/emulator.js';
import { cleanup } from '../helpers/cleanup.js';

/** Connects `tokens` at once; resolves each one's CONNACK code and milliseconds from the start. */
async function storm(t: Parameters<typeof cleanup>[0], url: string, tokens: string[], protocolVersion: 4 | 5 = 4) {
  const started = Date.now();
  return Promise.all(
    tokens.map(
      (username) =>
        new Promise<{ code: number; ms: number }>((resolve) => {
          const c = mqtt.connect(url, { username, protocolVersion, reconnectPeriod: 0, connectTimeout: 5000 });
          cleanup(t, () => void c.end(true));
          c.once('connect', () => resolve({ code: 0, ms: Date.now() - started }));
          c.once('error', (e) => resolve({ code: Number((e as { code?: number }).code ?? -1), ms: Date.now() - started }));
        }),
    ),
  );
}

async function fleet(t: Parameters<typeof startEmulator>[0], n: number, perSec: number, timeoutMs: number) {
  const emu = await startEmulator(t, { connectCapacity: perSec, connectCapacityTimeoutMs: timeoutMs });
  const { token } = await restLogin(emu.restUrl);
  const tokens = Array.from({ length: n }, (_, i) => `CC${i + 1}`);
  for (const [i, tok] of tokens.entries()) await createDevice(emu.restUrl, token, `cc-${i + 1}`, tok);
  return { emu, tokens };
}

test('a storm queues for credential validation; CONNECTs past the validation timeout get CONNACK 3 when it expires', async (t) => {
  // 50 validations/s = 20 ms each; a 300 ms timeout lets about 15 of 40 simultaneous CONNECTs through
  // (a few more when the clients' CONNECTs arrive spread over a busy machine)
  const { emu, tokens } = await fleet(t, 40, 50, 300);
  const out = await storm(t, emu.mqttUrl, tokens);
  const ok = out.filter((o) => o.code === 0).sort((a, b) => a.ms - b.ms);
  const refused = out.filter((o) => o.code !== 0);
  assert.ok(ok.length >= 12 && refused.length >= 10, `${ok.length} accepted, ${refused.length} refused`);
  assert.ok(
    refused.every((o) => o.code === 3),
    `refused with server unavailable: ${refused.map((o) => o.code)}`,
  );
  // the queue shows in the CONNACK latency, and refusals come when the timeout expires, not at once
  assert.ok(ok[ok.length - 1].ms - ok[0].ms >= 200, `first ${ok[0].ms} ms, last ${ok[ok.length - 1].ms} ms`);
  assert.ok(Math.min(...refused.map((o) => o.ms)) >= 280, `first refusal at ${Math.min(...refused.map((o) => o.ms))} ms`);
  const s = await fetchStats(emu.restUrl);
  assert.equal(s.connectCapacity!.validated, ok.length);
  assert.equal(s.connectCapacity!.timedOut, refused.length);
  assert.equal(s.connections.refused['validation-timeout'], refused.length);
  assert.ok(s.connectCapacity!.maxWaitMs <= 300, JSON.stringify(s.connectCapacity));
  // once the storm is over, a CONNECT is validated in one service time
  const [late] = await storm(t, emu.mqttUrl, [tokens[0]]);
  assert.equal(late.code, 0);
});

test('MQTT 5: the validation timeout answers CONNACK 0x88 server unavailable', async (t) => {
  const { emu, tokens } = await fleet(t, 6, 10, 150);
  const out = await storm(t, emu.mqttUrl, tokens, 5);
  const refused = out.filter((o) => o.code !== 0);
  assert.ok(refused.length >= 3, `${refused.length} refused`);
  assert.ok(
    refused.every((o) => o.code === 0x88),
    refused.map((o) => o.code).join(),
  );
  assert.equal((await fetchStats(emu.restUrl)).connectCapacity!.timedOut, refused.length);
});
