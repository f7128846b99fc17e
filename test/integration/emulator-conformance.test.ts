// Conformance tests: each one checks a ThingsBoard behaviour the emulator imitates and names the
// ThingsBoard source it follows (thingsboard/thingsboard on GitHub). Every test here whose name
// starts with "conformance:" has a row in docs/emulator.md (checked by test/unit/emulator-doc.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, rest, restLogin, createDevice } from '../helpers/emulator.js';

const telemetryOverHttp = (restUrl: string, accessToken: string, body: unknown) =>
  rest(restUrl, 'POST', `/api/v1/${accessToken}/telemetry`, { body });

// DeviceController.getTenantDeviceInfos (`@RequestParam(required = false) Boolean active`),
// TelemetryController.getTimeseries (`Boolean useStrictDataTypes`), TelemetryController.deleteEntityTimeseries
// (`boolean deleteAllDataForKeys`, `boolean deleteLatest`): Spring converts them with StringToBooleanConverter.
test('conformance: query-string booleans are read as Spring reads them (True, on, 1; bad value 400)', async (t) => {
  const emu = await startEmulator(t);
  const { token } = await restLogin(emu.restUrl);
  const id = await createDevice(emu.restUrl, token, 'busy', 'BUSY');
  await createDevice(emu.restUrl, token, 'quiet', 'QUIET');
  assert.equal((await telemetryOverHttp(emu.restUrl, 'BUSY', { t: 21.5 })).status, 200);
  const infos = async (active: string) => {
    const r = await rest(emu.restUrl, 'GET', `/api/tenant/deviceInfos?pageSize=10&page=0&active=${active}`, { token });
    return r.status === 200 ? r.body.data.map((d: { name: string }) => d.name) : r.status;
  };
  for (const v of ['True', 'true', 'TRUE', ' yes', 'on', '1']) assert.deepEqual(await infos(v), ['busy'], `active=${v}`);
  for (const v of ['False', 'off', '0', 'no']) assert.deepEqual(await infos(v), ['quiet'], `active=${v}`);
  assert.deepEqual(await infos(''), ['busy', 'quiet'], 'active= (empty) is no filter');
  assert.equal(await infos('maybe'), 400);

  const ts = `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=t`;
  assert.deepEqual((await rest(emu.restUrl, 'GET', `${ts}&useStrictDataTypes=True`, { token })).body.t[0].value, 21.5);
  assert.deepEqual((await rest(emu.restUrl, 'GET', `${ts}&useStrictDataTypes=False`, { token })).body.t[0].value, '21.5');

  const del = await rest(emu.restUrl, 'DELETE', `/api/plugins/telemetry/DEVICE/${id}/timeseries/delete?keys=t&deleteAllDataForKeys=True`, { token });
  assert.equal(del.status, 200);
  assert.deepEqual((await rest(emu.restUrl, 'GET', ts, { token })).body, {});
});
