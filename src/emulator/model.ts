// The emulator's entities (tenant, device profiles, devices, credentials) and the API error type
// its REST layer turns into ThingsBoard's error envelope.
import type { DeviceState } from './device-state.js';

/** A failure with ThingsBoard's HTTP status and errorCode (docs/thingsboard-behaviour.md#error-responses). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    /** Extra envelope fields (e.g. entityType/limit for errorCode 41). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface DeviceProfile {
  id: string;
  name: string;
  createdTime: number;
  isDefault: boolean;
  description: string | null;
  version: number;
  /** Device provisioning (provision.ts): the strategy, and the key/secret a device presents. */
  provisionType: ProvisionType;
  provisionDeviceKey: string | null;
  provisionDeviceSecret: string | null;
}

/** DeviceProfileProvisionType; X509_CERTIFICATE_CHAIN is stored but not imitated (provision.ts). */
export type ProvisionType = 'DISABLED' | 'ALLOW_CREATE_NEW_DEVICES' | 'CHECK_PRE_PROVISIONED_DEVICES' | 'X509_CERTIFICATE_CHAIN';

export type CredentialsType = 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE';

export interface MqttBasic {
  clientId: string;
  userName: string;
  password: string;
}

export interface Credentials {
  id: string;
  createdTime: number;
  type: CredentialsType;
  /** The access token for ACCESS_TOKEN; a derived id otherwise. */
  credentialsId: string;
  credentialsValue: string | null;
  basic: MqttBasic | null;
  version: number;
}

export interface Device {
  id: string;
  name: string;
  label: string | null;
  profileId: string;
  createdTime: number;
  version: number;
  additionalInfo: unknown;
  credentials: Credentials;
  state: DeviceState;
  /** The customer that claimed the device (claim.ts); absent = unassigned (ThingsBoard's null customer id). */
  customerId?: string;
}

/** ThingsBoard's id of "no customer". */
export const NULL_UUID = '13814000-1dd2-11b2-8080-808080808080';

/** A failure the telemetry controller answers with a plain-text body (docs/thingsboard-behaviour.md#telemetry-and-attributes-over-rest). */
export class PlainError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
