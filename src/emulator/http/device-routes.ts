// Device, credentials and device-profile endpoints a provisioner uses (docs/thingsboard-behaviour.md#devices).
import type { FastifyInstance } from 'fastify';
import { jsonBody, type HttpContext } from './context.js';
import { credentialsJson, deviceInfoJson, deviceJson, profileInfoJson, profileJson } from './shapes.js';
import { page, type PageQuery } from './paging.js';
import { boolParam } from './params.js';
import { ApiError, type Device, type DeviceProfile } from '../model.js';
import type { CredentialsInput, DeviceInput } from '../registry.js';
import { provisionSettings } from '../provision.js';

type Q = PageQuery & {
  deviceName?: string;
  type?: string;
  accessToken?: string;
  active?: string;
  deviceProfileId?: string;
  nameConflictPolicy?: string;
  uniquifySeparator?: string;
  uniquifyStrategy?: string;
};

const nameConflict = (q: Q) => ({ policy: q.nameConflictPolicy, separator: q.uniquifySeparator, strategy: q.uniquifyStrategy });

export function deviceRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const reg = ctx.store.registry;
  const deviceSort: Record<string, (d: Device) => string | number> = {
    createdTime: (d) => d.createdTime,
    name: (d) => d.name,
    label: (d) => d.label ?? '',
    deviceProfileName: (d) => reg.profileOf(d).name,
    customerTitle: () => '',
  };
  const isActive = (d: Device) => ctx.store.serverAttributes(d).get('active')?.value === true;
  const byName = (name: string) => {
    const d = reg.byName.get(name);
    if (!d) throw new ApiError(404, 32, "Requested item wasn't found!");
    return d;
  };
  const filtered = (q: Q) => {
    let list = [...reg.devices.values()];
    if (q.type) list = list.filter((d) => reg.profileOf(d).name === q.type);
    if (q.deviceProfileId) list = list.filter((d) => d.profileId === q.deviceProfileId);
    return list;
  };

  app.get<{ Querystring: Q }>('/api/tenant/devices', async (req) => {
    if (req.query.deviceName !== undefined) return deviceJson(reg, byName(req.query.deviceName));
    const p = page(
      filtered(req.query),
      req.query,
      (d) => [d.name, d.label],
      deviceSort,
      (d) => d.id,
    );
    return { ...p, data: p.data.map((d) => deviceJson(reg, d)) };
  });
  app.get<{ Querystring: Q }>('/api/tenant/deviceInfos', async (req) => {
    let list = filtered(req.query);
    const active = boolParam(req.query, 'active', null);
    if (active !== null) list = list.filter((d) => isActive(d) === active);
    const p = page(
      list,
      req.query,
      (d) => [d.name, d.label],
      deviceSort,
      (d) => d.id,
    );
    return { ...p, data: p.data.map((d) => deviceInfoJson(reg, d, isActive(d))) };
  });
  app.get<{ Querystring: Q }>('/api/tenant/device', async (req) => deviceJson(reg, byName(req.query.deviceName ?? '')));
  app.get<{ Params: { id: string } }>('/api/device/:id', async (req) => deviceJson(reg, reg.getDevice(req.params.id)));
  app.get<{ Params: { id: string } }>('/api/device/info/:id', async (req) => {
    const d = reg.getDevice(req.params.id);
    return deviceInfoJson(reg, d, isActive(d));
  });

  app.post<{ Querystring: Q }>('/api/device', async (req) => {
    const body = jsonBody(req.body) as Omit<DeviceInput, 'id'> & { id?: string | { id?: string } };
    // ThingsBoard's Device JSON carries `id` as {entityType, id}: an update posts the device back as read
    if (body.id && typeof body.id === 'object') body.id = body.id.id;
    const d = reg.saveDevice(body as DeviceInput, { accessToken: req.query.accessToken, nameConflict: nameConflict(req.query) });
    return deviceJson(reg, d);
  });
  app.post<{ Querystring: Q }>('/api/device-with-credentials', async (req) => {
    const body = jsonBody(req.body) as { device?: DeviceInput; credentials?: CredentialsInput };
    if (!body.device || typeof body.device !== 'object') throw new ApiError(400, 31, 'Device should be specified!');
    return deviceJson(reg, reg.saveDevice(body.device, { credentials: body.credentials, nameConflict: nameConflict(req.query) }));
  });
  app.delete<{ Params: { id: string } }>('/api/device/:id', async (req, reply) => {
    reg.deleteDevice(req.params.id);
    ctx.ingest.limiter.forget(req.params.id);
    ctx.store.claims.forget(req.params.id);
    return reply.code(200).send();
  });

  app.get<{ Params: { id: string } }>('/api/device/:id/credentials', async (req) => credentialsJson(reg.getDevice(req.params.id)));
  app.post('/api/device/credentials', async (req) => {
    const body = jsonBody(req.body) as CredentialsInput & { deviceId?: { id?: string } };
    const id = body.deviceId?.id;
    if (typeof id !== 'string') throw new ApiError(400, 31, 'Device credentials should be assigned to device!');
    const d = reg.updateCredentials(id, body);
    ctx.closeSession(d.id, 'credentials-updated');
    return credentialsJson(d);
  });

  const profileSort: Record<string, (p: DeviceProfile) => string | number> = { name: (p) => p.name, createdTime: (p) => p.createdTime };
  const profiles = () => [...reg.profiles.values()];
  const getProfile = (id: string) => {
    const p = reg.profiles.get(id.toLowerCase());
    if (!p) throw new ApiError(404, 32, `Device profile with id [${id}] is not found`);
    return p;
  };
  app.get<{ Querystring: PageQuery }>('/api/deviceProfileInfos', async (req) => {
    const p = page(
      profiles(),
      req.query,
      (x) => [x.name],
      profileSort,
      (x) => x.id,
    );
    return { ...p, data: p.data.map((x) => profileInfoJson(reg, x)) };
  });
  app.get<{ Querystring: PageQuery }>('/api/deviceProfiles', async (req) => {
    const p = page(
      profiles(),
      req.query,
      (x) => [x.name],
      profileSort,
      (x) => x.id,
    );
    return { ...p, data: p.data.map((x) => profileJson(reg, x)) };
  });
  app.get('/api/deviceProfileInfo/default', async () => profileInfoJson(reg, reg.defaultProfile));
  app.get<{ Params: { id: string } }>('/api/deviceProfileInfo/:id', async (req) => profileInfoJson(reg, getProfile(req.params.id)));
  app.get<{ Params: { id: string } }>('/api/deviceProfile/:id', async (req) => profileJson(reg, getProfile(req.params.id)));
  app.post('/api/deviceProfile', async (req) => {
    const body = jsonBody(req.body);
    if (typeof body.name !== 'string' || body.name.trim() === '') throw new ApiError(400, 31, 'Device profile name should be specified!');
    const description = typeof body.description === 'string' ? body.description : null;
    const p = reg.createProfile(body.name, false, description, provisionSettings(body));
    return profileJson(reg, p);
  });
}
