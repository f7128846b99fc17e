// The emulator's HTTP device API limits, as ThingsBoard answers them:
// - a body over `transport.http.max_payload_size` (`/api/v1/**=52428800`) is answered 413 with the message
//   as a JSON string, judged by its Content-Length before the body is read
//   (common/transport/http/.../config/PayloadSizeFilter.java, TransportSecurityConfiguration.java;
//   MaxPayloadSizeExceededException's text), and nothing is stored;
// - a transport rate limit answers 500 empty (DefaultTransportService.checkLimits → DeviceApiController's
//   HttpOkCallback.onError);
// - the `throttleHttp` fault is not ThingsBoard: it answers 429 as a rate-limiting proxy in front of it would,
//   counted in the stats' faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { createDevice, fetchStats, restLogin, startEmulator } from '../helpers/emulator.js';

test('device API: 413 over httpMaxPayloadSize (by Content-Length, nothing stored), 500 when rate-limited, 429 from the throttle fault', async (t) => {
  const emu = await startEmulator(t, { httpMaxPayloadSize: 100, rateLimits: { device: '3:60' } });
  const { token } = await restLogin(emu.restUrl);
  await createDevice(emu.restUrl, token, 'lim', 'LIM');
  const post = async (body: string) => {
    const r = await request(`${emu.restUrl}/api/v1/LIM/telemetry`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    return [r.statusCode, await r.body.text()];
  };
  const at = (bytes: number) => JSON.stringify({ sequence: 1, pad: 'x'.repeat(bytes - 23) }); // a body of `bytes` bytes
  assert.deepEqual(await post(at(100)), [200, ''], '100 bytes: at the limit');
  assert.deepEqual(await post(at(101)), [413, '"Payload size exceeds the limit of 100 bytes"']);
  assert.deepEqual(await post(at(30)), [200, ''], 'the connection serves the next request');
  assert.deepEqual(await post(at(30)), [200, '']);
  assert.deepEqual(await post(at(30)), [500, ''], 'the fourth message in a minute is over the device rate limit');
  let s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.perDevice.lim.messages, s.perDevice.lim.rateLimited], [3, 1], 'the 413 stored nothing');

  emu.setFaults({ throttleHttp: 1 });
  assert.deepEqual(await post(at(30)), [429, '']);
  assert.deepEqual(await post(at(500)), [429, ''], 'the proxy answers before ThingsBoard reads the body');
  s = await fetchStats(emu.restUrl);
  assert.deepEqual([s.faults.httpThrottled, s.perDevice.lim.messages], [2, 3]);
});
