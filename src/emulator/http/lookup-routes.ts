// Read-only lookups client libraries call: device types, devices by ids, and the key lists of a
// device profile's devices (DeviceController, DeviceProfileController).
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { deviceJson } from './shapes.js';
import { ApiError, type Device } from '../model.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The SQL behind the profile key lists looks at 100 devices (`… limit 100`). */
const KEY_SCAN_DEVICES = 100;

export function lookupRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { store } = ctx;
  const reg = store.registry;

  // DeviceController.getDeviceTypes → JpaDeviceDao.findTenantDeviceTypesAsync: names of profiles with ≥ 1 device, sorted
  app.get('/api/device/types', async () => {
    const used = new Set([...reg.devices.values()].map((d) => d.profileId));
    return [...reg.profiles.values()]
      .filter((p) => used.has(p.id))
      .map((p) => ({ tenantId: { entityType: 'TENANT', id: reg.tenantId }, entityType: 'DEVICE', type: p.name }))
      .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  });

  // DeviceController.getDevicesByIds: comma-separated ids; unknown ids are left out; a malformed one is a 400
  app.get<{ Querystring: { deviceIds?: string } }>('/api/devices', async (req) => {
    const raw = req.query.deviceIds;
    if (raw === undefined) {
      throw new ApiError(400, 31, "Required request parameter 'deviceIds' for method parameter type String[] is not present");
    }
    const ids = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (ids.length === 0) throw new ApiError(400, 31, "Parameter 'deviceIds' can't be empty!");
    const bad = ids.find((id) => !UUID.test(id));
    if (bad !== undefined) throw new ApiError(400, 31, `Invalid UUID string: ${bad}`);
    const out: Device[] = [];
    for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
      const d = reg.devices.get(id);
      if (d) out.push(d);
    }
    return out.map((d) => deviceJson(reg, d));
  });

  const profileDevices = (profileId: string | undefined): Device[] => {
    let list = [...reg.devices.values()];
    if (profileId) {
      if (!reg.profiles.has(profileId.toLowerCase())) throw new ApiError(404, 32, `Device profile with id [${profileId}] is not found`);
      list = list.filter((d) => d.profileId === profileId.toLowerCase());
    }
    return list.slice(0, KEY_SCAN_DEVICES);
  };
  const sorted = (keys: Set<string>) => [...keys].sort();

  // DeviceProfileController.getDeviceProfileTimeseriesKeys (TsKvLatestRepository): distinct latest keys, sorted
  app.get<{ Querystring: { deviceProfileId?: string } }>('/api/deviceProfile/devices/keys/timeseries', async (req) => {
    const keys = new Set<string>();
    for (const d of profileDevices(req.query.deviceProfileId)) for (const k of store.latest(d).keys()) keys.add(k);
    return sorted(keys);
  });
  // DeviceProfileController.getAttributesKeys (AttributeKvRepository): distinct keys of every scope, sorted
  app.get<{ Querystring: { deviceProfileId?: string } }>('/api/deviceProfile/devices/keys/attributes', async (req) => {
    const keys = new Set<string>();
    for (const d of profileDevices(req.query.deviceProfileId)) {
      for (const k of store.serverAttributes(d).keys()) keys.add(k);
      for (const k of d.state.attributes.CLIENT_SCOPE.keys()) keys.add(k);
      for (const k of d.state.attributes.SHARED_SCOPE.keys()) keys.add(k);
    }
    return sorted(keys);
  });
}
