// Tenant data the REST API manages: device profiles, devices and their credentials, with
// ThingsBoard's validation messages (duplicate names and tokens, unknown profiles and ids).
import { randomUUID, randomBytes, createHash } from 'node:crypto';
import { ApiError, type Credentials, type CredentialsType, type Device, type DeviceProfile, type MqttBasic } from './model.js';
import { Customers } from './customers.js';
import { DeviceState } from './device-state.js';
import type { EmulatorEvents } from './events.js';

export interface DeviceInput {
  id?: string;
  name?: unknown;
  label?: unknown;
  type?: unknown;
  deviceProfileId?: { id?: unknown } | null;
  additionalInfo?: unknown;
}

/** ThingsBoard 4.3+ `nameConflictPolicy` query parameters of device creation. */
export interface NameConflict {
  policy?: string;
  separator?: string;
  strategy?: string;
}

export interface CredentialsInput {
  credentialsType?: unknown;
  credentialsId?: unknown;
  credentialsValue?: unknown;
}

/** A device profile's provisioning settings (parsed from the profile JSON by provision.ts). */
export type ProvisionSettings = Pick<DeviceProfile, 'provisionType' | 'provisionDeviceKey' | 'provisionDeviceSecret'>;

export interface RegistryOptions {
  /** Tenant profile `maxDevices`: creating more answers 403/41; 0 = unlimited. */
  maxDevices: number;
  historyRowsPerDevice: number;
  recentRowsPerDevice: number;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomToken(): string {
  const b = randomBytes(20);
  let s = '';
  for (const x of b) s += TOKEN_ALPHABET[x % TOKEN_ALPHABET.length];
  return s;
}

export class Registry {
  readonly tenantId = randomUUID();
  readonly userId = randomUUID();
  readonly profiles = new Map<string, DeviceProfile>();
  readonly devices = new Map<string, Device>();
  readonly byName = new Map<string, Device>();
  /** ACCESS_TOKEN credentials id → device. */
  readonly byToken = new Map<string, Device>();
  /** MQTT_BASIC user name (or client id when the name is empty) → devices. */
  private readonly byBasicKey = new Map<string, Device[]>();
  defaultProfile: DeviceProfile;
  /** The tenant's customers and customer users (the claiming side). */
  readonly customers = new Customers(this.tenantId);

  constructor(
    private readonly opts: RegistryOptions,
    private readonly events: EmulatorEvents,
  ) {
    this.defaultProfile = this.createProfile('default', true);
  }

  createProfile(name: string, isDefault = false, description: string | null = null, provision?: ProvisionSettings): DeviceProfile {
    const key = provision?.provisionDeviceKey ?? null;
    for (const p of this.profiles.values()) {
      if (p.name === name) throw new ApiError(400, 31, 'Device profile with such name already exists!');
      // DeviceProfileServiceImpl: the device_provision_key_unq_key constraint
      if (key !== null && p.provisionDeviceKey === key)
        throw new ApiError(400, 31, 'Device profile with such provision device key already exists!');
    }
    const p: DeviceProfile = {
      id: randomUUID(),
      name,
      createdTime: Date.now(),
      isDefault,
      description,
      version: 1,
      provisionType: 'DISABLED',
      provisionDeviceKey: null,
      provisionDeviceSecret: null,
      ...provision,
    };
    this.profiles.set(p.id, p);
    return p;
  }

  profileOf(d: Device): DeviceProfile {
    return this.profiles.get(d.profileId) ?? this.defaultProfile;
  }

  getDevice(id: string): Device {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new ApiError(400, 31, `Invalid UUID string: ${id}`);
    }
    const d = this.devices.get(id.toLowerCase());
    if (!d) throw new ApiError(404, 32, `Device with id [${id}] is not found`);
    return d;
  }

  private resolveProfile(input: DeviceInput): DeviceProfile {
    const pid = input.deviceProfileId?.id;
    if (typeof pid === 'string' && pid !== '') {
      const p = this.profiles.get(pid.toLowerCase());
      if (!p) throw new ApiError(400, 31, 'Device is referencing non existing device profile!');
      return p;
    }
    if (typeof input.type === 'string' && input.type !== '') {
      for (const p of this.profiles.values()) if (p.name === input.type) return p;
      return this.createProfile(input.type);
    }
    return this.defaultProfile;
  }

  private credentials(input: CredentialsInput | undefined, accessToken: string | undefined): Credentials {
    const type = (input?.credentialsType ?? 'ACCESS_TOKEN') as CredentialsType;
    const now = Date.now();
    if (type === 'ACCESS_TOKEN') {
      const token =
        typeof input?.credentialsId === 'string' && input.credentialsId !== '' ? input.credentialsId : accessToken || randomToken();
      return { id: randomUUID(), createdTime: now, type, credentialsId: token, credentialsValue: null, basic: null, version: 1 };
    }
    if (type === 'MQTT_BASIC') {
      let basic: MqttBasic;
      try {
        const v = JSON.parse(String(input?.credentialsValue)) as Partial<MqttBasic>;
        basic = { clientId: v.clientId ?? '', userName: v.userName ?? '', password: v.password ?? '' };
      } catch {
        throw new ApiError(400, 31, 'Invalid credentials body for simple mqtt credentials!');
      }
      if (!basic.clientId && !basic.userName) throw new ApiError(400, 31, 'Both mqtt client id and user name are empty!');
      const hash = createHash('sha3-256').update(`${basic.clientId}|${basic.userName}`).digest('base64');
      return { id: randomUUID(), createdTime: now, type, credentialsId: hash, credentialsValue: JSON.stringify(basic), basic, version: 1 };
    }
    throw new ApiError(400, 31, `Credentials type ${String(type)} is not supported by the emulator (use ACCESS_TOKEN or MQTT_BASIC)`);
  }

  private checkCredentialsFree(c: Credentials, self?: Device): void {
    const other = c.type === 'ACCESS_TOKEN' ? this.byToken.get(c.credentialsId) : undefined;
    const basicTaken =
      c.basic &&
      (this.byBasicKey.get(c.basic.userName || c.basic.clientId) ?? []).some(
        (d) => d !== self && d.credentials.credentialsId === c.credentialsId,
      );
    if ((other && other !== self) || basicTaken) throw new ApiError(400, 31, 'Device credentials are already assigned to another device!');
  }

  private index(d: Device): void {
    const c = d.credentials;
    if (c.type === 'ACCESS_TOKEN') this.byToken.set(c.credentialsId, d);
    if (c.basic) {
      const k = c.basic.userName || c.basic.clientId;
      this.byBasicKey.set(k, [...(this.byBasicKey.get(k) ?? []), d]);
    }
  }

  private unindex(d: Device): void {
    const c = d.credentials;
    if (c.type === 'ACCESS_TOKEN' && this.byToken.get(c.credentialsId) === d) this.byToken.delete(c.credentialsId);
    if (c.basic) {
      const k = c.basic.userName || c.basic.clientId;
      const rest = (this.byBasicKey.get(k) ?? []).filter((x) => x !== d);
      if (rest.length) this.byBasicKey.set(k, rest);
      else this.byBasicKey.delete(k);
    }
  }

  /** POST /api/device and /api/device-with-credentials (create, or update when `id` is given). */
  saveDevice(input: DeviceInput, opts: { accessToken?: string; credentials?: CredentialsInput; nameConflict?: NameConflict } = {}): Device {
    if (input.id) return this.updateDevice(input);
    let name = typeof input.name === 'string' ? input.name : '';
    if (name.trim() === '') throw new ApiError(400, 31, 'Device name should be specified!');
    if (this.opts.maxDevices > 0 && this.devices.size >= this.opts.maxDevices) {
      throw new ApiError(403, 41, `Devices limit reached (${this.opts.maxDevices})`, { entityType: 'DEVICE', limit: this.opts.maxDevices });
    }
    if (this.byName.has(name)) {
      if ((opts.nameConflict?.policy ?? 'FAIL').toUpperCase() !== 'UNIQUIFY')
        throw new ApiError(400, 31, 'Device with such name already exists!');
      name = this.uniquify(name, opts.nameConflict!);
    }
    const profile = this.resolveProfile(input);
    const credentials = this.credentials(opts.credentials, opts.accessToken);
    this.checkCredentialsFree(credentials);
    const d: Device = {
      id: randomUUID(),
      name,
      label: typeof input.label === 'string' ? input.label : null,
      profileId: profile.id,
      createdTime: Date.now(),
      version: 1,
      additionalInfo: input.additionalInfo ?? null,
      credentials,
      state: new DeviceState(this.opts.historyRowsPerDevice, this.opts.recentRowsPerDevice),
    };
    this.devices.set(d.id, d);
    this.byName.set(name, d);
    this.index(d);
    this.events.emit('deviceCreated', { deviceId: d.id, deviceName: d.name });
    return d;
  }

  private uniquify(name: string, c: NameConflict): string {
    const sep = c.separator ?? '_';
    if ((c.strategy ?? 'RANDOM').toUpperCase() === 'INCREMENTAL') {
      for (let i = 1; ; i++) if (!this.byName.has(`${name}${sep}${i}`)) return `${name}${sep}${i}`;
    }
    for (;;) {
      const candidate = `${name}${sep}${randomToken().slice(0, 6).toLowerCase()}`;
      if (!this.byName.has(candidate)) return candidate;
    }
  }

  private updateDevice(input: DeviceInput): Device {
    const d = this.getDevice(String(input.id));
    const name = typeof input.name === 'string' && input.name.trim() !== '' ? input.name : d.name;
    if (name !== d.name && this.byName.has(name)) throw new ApiError(400, 31, 'Device with such name already exists!');
    const profile = input.deviceProfileId || input.type ? this.resolveProfile(input) : this.profileOf(d);
    this.byName.delete(d.name);
    d.name = name;
    this.byName.set(name, d);
    if (input.label !== undefined) d.label = typeof input.label === 'string' ? input.label : null;
    if (input.additionalInfo !== undefined) d.additionalInfo = input.additionalInfo;
    d.profileId = profile.id;
    d.version++;
    return d;
  }

  /** POST /api/device/credentials. */
  updateCredentials(deviceId: string, input: CredentialsInput): Device {
    const d = this.getDevice(deviceId);
    const c = this.credentials(input, undefined);
    this.checkCredentialsFree(c, d);
    this.unindex(d);
    c.id = d.credentials.id;
    c.createdTime = d.credentials.createdTime;
    c.version = d.credentials.version + 1;
    d.credentials = c;
    this.index(d);
    return d;
  }

  deleteDevice(id: string): Device {
    const d = this.getDevice(id);
    this.devices.delete(d.id);
    this.byName.delete(d.name);
    this.unindex(d);
    this.events.emit('deviceDeleted', { deviceId: d.id, deviceName: d.name });
    return d;
  }

  /** MQTT_BASIC match (docs/thingsboard-behaviour.md#connect-and-connack): every non-empty stored field must match. */
  findBasic(userName: string, clientId: string, password: string): Device | undefined {
    const candidates = this.byBasicKey.get(userName || clientId) ?? [];
    return candidates.find((d) => {
      const b = d.credentials.basic!;
      return (
        (!b.clientId || b.clientId === clientId) && (!b.userName || b.userName === userName) && (!b.password || b.password === password)
      );
    });
  }
}
