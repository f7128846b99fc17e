// Device provisioning as ThingsBoard's DeviceProvisionServiceImpl.provisionDevice does it, shared by MQTT
// (`provision` sessions, mqtt/provision.ts) and HTTP (`POST /api/v1/provision`): a device presents a profile's
// provision key and secret and gets its credentials back. Imitated: ALLOW_CREATE_NEW_DEVICES and
// CHECK_PRE_PROVISIONED_DEVICES with ACCESS_TOKEN credentials (generated, or the request's `token`).
// Not imitated: MQTT_BASIC and X509_CERTIFICATE credentials in the request, X509_CERTIFICATE_CHAIN profiles,
// the protobuf payload form: those answer FAILURE and are counted in `unimplemented`.
import type { Device, DeviceProfile, ProvisionType } from './model.js';
import { ApiError } from './model.js';
import type { ProvisionSettings } from './registry.js';
import type { Store } from './store.js';

/** ProvisionResponseStatus as the transport sends it. */
export type ProvisionStatus = 'SUCCESS' | 'NOT_FOUND' | 'FAILURE';

export interface ProvisionRequest {
  deviceName: string;
  credentialsType: string;
  token: string;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  gateway: boolean;
}

export interface ProvisionCounters {
  /** MQTT provisioning-only sessions accepted. */
  sessions: number;
  requests: number;
  success: number;
  notFound: number;
  failure: number;
  /** Requests asking for what the emulator does not imitate, by what (they answered FAILURE). */
  unimplemented: Record<string, number>;
}

/** DataConstants.PROVISION: the MQTT user name or client id of a provisioning-only session. */
export const PROVISION_USERNAME = 'provision';
/** DeviceProfileProvisionServiceImpl's server attribute marking a device as provisioned. */
const PROVISION_STATE = 'provisionState';
const PROVISION_TYPES: ProvisionType[] = [
  'DISABLED',
  'ALLOW_CREATE_NEW_DEVICES',
  'CHECK_PRE_PROVISIONED_DEVICES',
  'X509_CERTIFICATE_CHAIN',
];
const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * A request the transport cannot read: JsonConverter throws before the provision service runs. `adaptor` = a
 * JSON syntax error (the adaptor's error answer); otherwise a RuntimeException (a missing key, a bad field).
 */
export class ProvisionRequestError extends Error {
  constructor(
    message: string,
    readonly adaptor: boolean,
  ) {
    super(message);
  }
}

/** TransportProtos.CredentialsType: other names fail CredentialsType.valueOf. */
const CREDENTIALS_TYPES = ['ACCESS_TOKEN', 'X509_CERTIFICATE', 'MQTT_BASIC', 'LWM2M_CREDENTIALS'];

/**
 * JsonConverter.convertToProvisionRequestMsg: a JSON object; `provisionDeviceKey` and `provisionDeviceSecret`
 * must be present (a RuntimeException otherwise), the rest default to "" (`credentialsType` to ACCESS_TOKEN).
 */
export function parseProvisionRequest(payload: string): ProvisionRequest {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    // the parser's message quotes the input, which holds the provision secret: not echoed
    throw new ProvisionRequestError('Invalid JSON', true);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ProvisionRequestError("Can't parse value: not a JSON object", true);
  const o = v as Record<string, unknown>;
  const get = (field: string, required: boolean) => {
    if (!(field in o)) {
      if (required) throw new ProvisionRequestError(`Failed to find the field ${field} in JSON body!`, false);
      return '';
    }
    const x = o[field];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new ProvisionRequestError(`The field ${field} is not a primitive`, false);
  };
  const credentialsType = 'credentialsType' in o ? get('credentialsType', false) : 'ACCESS_TOKEN';
  if (!CREDENTIALS_TYPES.includes(credentialsType)) throw new ProvisionRequestError(`No enum constant ${credentialsType}`, false);
  return {
    deviceName: get('deviceName', false),
    credentialsType,
    token: get('token', false),
    provisionDeviceKey: get('provisionDeviceKey', true),
    provisionDeviceSecret: get('provisionDeviceSecret', true),
    gateway: o.gateway === true || o.gateway === 'true',
  };
}

/**
 * A device profile's provisioning settings from its JSON (POST /api/deviceProfile): top-level `provisionType`
 * (DISABLED when absent, as DeviceProfileDataValidator sets it) and `provisionDeviceKey`, the secret from
 * `profileData.provisionConfiguration.provisionDeviceSecret`.
 */
export function provisionSettings(body: Record<string, unknown>): ProvisionSettings {
  const type = body.provisionType ?? 'DISABLED';
  if (!PROVISION_TYPES.includes(type as ProvisionType)) throw new ApiError(400, 31, `Invalid provisionType: ${String(type)}`);
  const cfg = (body.profileData as { provisionConfiguration?: { provisionDeviceSecret?: unknown } } | undefined)?.provisionConfiguration;
  const text = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
  return {
    provisionType: type as ProvisionType,
    provisionDeviceKey: text(body.provisionDeviceKey),
    provisionDeviceSecret: text(cfg?.provisionDeviceSecret),
  };
}

export class Provisioning {
  readonly counters: ProvisionCounters = { sessions: 0, requests: 0, success: 0, notFound: 0, failure: 0, unimplemented: {} };

  constructor(private readonly store: Store) {}

  /** provisionDevice; the response JSON as JsonConverter.toJson(ProvisionDeviceResponseMsg) renders it. */
  provision(req: ProvisionRequest): Record<string, unknown> {
    this.counters.requests++;
    const r = this.decide(req);
    if (typeof r === 'string') {
      this.counters[r === 'NOT_FOUND' ? 'notFound' : 'failure']++;
      const errorMsg = r === 'NOT_FOUND' ? 'Provision data was not found!' : 'Failed to provision device!';
      return { errorMsg, status: r };
    }
    this.counters.success++;
    // DefaultTransportApiService.getTransportApiResponseMsg: the token for ACCESS_TOKEN, else the credentials value
    // (a pre-provisioned MQTT_BASIC device: its {clientId,userName,password} as a JSON object)
    const c = r.credentials;
    const credentialsValue = c.type === 'ACCESS_TOKEN' ? c.credentialsId : c.basic ? JSON.parse(c.credentialsValue!) : c.credentialsValue;
    return { credentialsValue, credentialsType: c.type, status: 'SUCCESS' };
  }

  private decide(req: ProvisionRequest): Device | 'NOT_FOUND' | 'FAILURE' {
    const reg = this.store.registry;
    const name = req.deviceName.trim();
    if (req.deviceName !== '' && name === '') return 'FAILURE';
    if (req.provisionDeviceKey === '' || req.provisionDeviceSecret === '') return 'NOT_FOUND';
    let profile: DeviceProfile | undefined;
    for (const p of reg.profiles.values()) if (p.provisionDeviceKey === req.provisionDeviceKey) profile = p;
    if (!profile || profile.provisionDeviceSecret === null) return 'NOT_FOUND';
    if (profile.provisionType === 'X509_CERTIFICATE_CHAIN') return this.unimplemented('X509_CERTIFICATE_CHAIN profile');
    if (profile.provisionDeviceSecret !== req.provisionDeviceSecret || profile.provisionType === 'DISABLED') return 'NOT_FOUND';
    const existing = reg.byName.get(name);
    if (profile.provisionType === 'CHECK_PRE_PROVISIONED_DEVICES') {
      // processProvision: a pre-provisioned device of this profile, provisioned once (server attribute provisionState)
      if (!existing || existing.profileId !== profile.id) return 'FAILURE';
      if (existing.state.attributes.SERVER_SCOPE.has(PROVISION_STATE)) return 'FAILURE';
      this.markProvisioned(existing);
      return existing;
    }
    if (existing) return 'FAILURE'; // "The device is present and could not be provisioned once more!"
    if (req.credentialsType !== 'ACCESS_TOKEN') return this.unimplemented(`${req.credentialsType} credentials`);
    let d: Device;
    try {
      d = reg.saveDevice(
        {
          name: name || randomName(),
          type: profile.name,
          deviceProfileId: { id: profile.id },
          additionalInfo: req.gateway ? { gateway: true } : undefined,
        },
        { credentials: req.token ? { credentialsType: 'ACCESS_TOKEN', credentialsId: req.token } : undefined },
      );
    } catch (e) {
      // processCreateDevice: any error (a taken token, the tenant's device limit) → FAILURE
      if (e instanceof ApiError) return 'FAILURE';
      throw e;
    }
    this.markProvisioned(d);
    return d;
  }

  private markProvisioned(d: Device): void {
    this.store.saveAttributes(d, 'SERVER_SCOPE', { [PROVISION_STATE]: 'provisioned' }, this.store.opts.clock());
  }

  private unimplemented(what: string): 'FAILURE' {
    this.counters.unimplemented[what] = (this.counters.unimplemented[what] ?? 0) + 1;
    return 'FAILURE';
  }
}

/** StringUtils.randomAlphanumeric(20): the name of a device provisioned without one. */
function randomName(): string {
  let s = '';
  for (let i = 0; i < 20; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}
