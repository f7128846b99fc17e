// Device, credential, profile and attribute endpoints used by provisioning and fleet control
// (docs/thingsboard-behaviour.md#devices, #telemetry-and-attributes-over-rest). Thin typed wrappers: retries and errors are the client's.
import type { TbClient } from './client.js';
import { isNotFound } from './errors.js';
import type { NewDevice, TbDevice, TbDeviceCredentials, TbDeviceProfileInfo } from './types.js';

/** Exact-name lookup; null when no such device. */
export async function findDeviceByName(c: TbClient, name: string): Promise<TbDevice | null> {
  try {
    return await c.get<TbDevice>('/api/tenant/devices', { deviceName: name });
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** Tenant devices whose name or label contains `textSearch` (case-insensitive, server-side). */
export function listDevices(c: TbClient, textSearch?: string, pageSize = 1000): AsyncGenerator<TbDevice> {
  return c.paginate<TbDevice>('/api/tenant/devices', { textSearch }, pageSize);
}

/** `POST /api/device?accessToken=` — the device and its ACCESS_TOKEN credentials in one call. */
export function createDevice(c: TbClient, device: NewDevice, accessToken: string): Promise<TbDevice> {
  return c.post<TbDevice>('/api/device', device, { accessToken });
}

export function getCredentials(c: TbClient, deviceId: string): Promise<TbDeviceCredentials> {
  return c.get<TbDeviceCredentials>(`/api/device/${deviceId}/credentials`);
}

/** Replaces the device's credentials (closes its live sessions on the server). */
export function saveCredentials(c: TbClient, creds: TbDeviceCredentials): Promise<TbDeviceCredentials> {
  return c.post<TbDeviceCredentials>('/api/device/credentials', creds);
}

/** Deletes a device; false when it was already gone (404). */
export async function deleteDevice(c: TbClient, deviceId: string): Promise<boolean> {
  try {
    await c.delete(`/api/device/${deviceId}`);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export function saveServerAttributes(c: TbClient, deviceId: string, attrs: Record<string, unknown>): Promise<void> {
  return c.post<void>(`/api/plugins/telemetry/DEVICE/${deviceId}/attributes/SERVER_SCOPE`, attrs);
}

export function defaultDeviceProfile(c: TbClient): Promise<TbDeviceProfileInfo> {
  return c.get<TbDeviceProfileInfo>('/api/deviceProfileInfo/default');
}

export function deviceProfileInfo(c: TbClient, id: string): Promise<TbDeviceProfileInfo> {
  return c.get<TbDeviceProfileInfo>(`/api/deviceProfileInfo/${id}`);
}
