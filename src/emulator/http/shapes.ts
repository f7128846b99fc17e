// The JSON shapes ThingsBoard returns for devices, credentials, profiles and pages
// (docs/thingsboard-behaviour.md#devices), built from the emulator's entities.
import { NULL_UUID, type Credentials, type Device, type DeviceProfile } from '../model.js';
import type { Registry } from '../registry.js';

export function deviceJson(reg: Registry, d: Device): Record<string, unknown> {
  const p = reg.profileOf(d);
  return {
    id: { entityType: 'DEVICE', id: d.id },
    createdTime: d.createdTime,
    tenantId: { entityType: 'TENANT', id: reg.tenantId },
    customerId: { entityType: 'CUSTOMER', id: d.customerId ?? NULL_UUID },
    name: d.name,
    type: p.name,
    label: d.label,
    deviceProfileId: { entityType: 'DEVICE_PROFILE', id: p.id },
    deviceData: { configuration: { type: 'DEFAULT' }, transportConfiguration: { type: 'DEFAULT' } },
    firmwareId: null,
    softwareId: null,
    externalId: null,
    version: d.version,
    additionalInfo: d.additionalInfo,
  };
}

export function deviceInfoJson(reg: Registry, d: Device, active: boolean): Record<string, unknown> {
  const customerTitle = d.customerId ? (reg.customers.byId.get(d.customerId)?.title ?? null) : null;
  return { ...deviceJson(reg, d), customerTitle, customerIsPublic: false, deviceProfileName: reg.profileOf(d).name, active };
}

export function credentialsJson(d: Device, c: Credentials = d.credentials): Record<string, unknown> {
  return {
    id: { id: c.id },
    createdTime: c.createdTime,
    deviceId: { entityType: 'DEVICE', id: d.id },
    credentialsType: c.type,
    credentialsId: c.credentialsId,
    credentialsValue: c.credentialsValue,
    version: c.version,
  };
}

export function profileInfoJson(reg: Registry, p: DeviceProfile): Record<string, unknown> {
  return {
    id: { entityType: 'DEVICE_PROFILE', id: p.id },
    name: p.name,
    image: null,
    defaultDashboardId: null,
    type: 'DEFAULT',
    transportType: 'DEFAULT',
    tenantId: { entityType: 'TENANT', id: reg.tenantId },
  };
}

export function profileJson(reg: Registry, p: DeviceProfile): Record<string, unknown> {
  return {
    id: { entityType: 'DEVICE_PROFILE', id: p.id },
    createdTime: p.createdTime,
    tenantId: { entityType: 'TENANT', id: reg.tenantId },
    name: p.name,
    description: p.description,
    image: null,
    default: p.isDefault,
    type: 'DEFAULT',
    transportType: 'DEFAULT',
    provisionType: p.provisionType,
    defaultRuleChainId: null,
    defaultDashboardId: null,
    defaultQueueName: null,
    provisionDeviceKey: p.provisionDeviceKey,
    firmwareId: null,
    softwareId: null,
    defaultEdgeRuleChainId: null,
    externalId: null,
    version: p.version,
    profileData: {
      configuration: { type: 'DEFAULT' },
      transportConfiguration: { type: 'DEFAULT' },
      provisionConfiguration: { type: p.provisionType, provisionDeviceSecret: p.provisionDeviceSecret },
      alarms: null,
    },
  };
}
