// ThingsBoard REST wire shapes the lab reads and writes (docs/thingsboard-behaviour.md#authentication, #devices).
// Only the fields the lab uses are typed; the server may send more.

export interface EntityId<T extends string = string> {
  entityType: T;
  id: string;
}

/** `PageData<T>` of every paged endpoint; `page` is 0-based. */
export interface PageData<T> {
  data: T[];
  totalPages: number;
  totalElements: number;
  hasNext: boolean;
}

export interface TbDevice {
  id: EntityId<'DEVICE'>;
  createdTime: number;
  name: string;
  type: string | null;
  label: string | null;
  deviceProfileId: EntityId<'DEVICE_PROFILE'> | null;
  additionalInfo?: Record<string, unknown> | null;
}

/** Body of `POST /api/device`: a device without id/tenant. */
export interface NewDevice {
  name: string;
  label?: string;
  type?: string;
  deviceProfileId?: EntityId<'DEVICE_PROFILE'>;
}

export interface TbDeviceCredentials {
  id: { id: string };
  deviceId: EntityId<'DEVICE'>;
  credentialsType: 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE' | 'LWM2M_CREDENTIALS';
  credentialsId: string;
  /** JSON string for MQTT_BASIC (`{"clientId","userName","password"}`), PEM for X509. */
  credentialsValue: string | null;
  version?: number;
}

export interface TbDeviceProfileInfo {
  id: EntityId<'DEVICE_PROFILE'>;
  name: string;
  type?: string;
  transportType?: string;
}

export interface TbUser {
  id: EntityId<'USER'>;
  tenantId: EntityId<'TENANT'>;
  customerId?: EntityId<'CUSTOMER'>;
  email: string;
  authority: string;
}

/** `{status, message, errorCode, timestamp}` — ThingsBoard's JSON error envelope (§1.6). */
export interface TbErrorEnvelope {
  status: number;
  message: string;
  errorCode: number;
  timestamp?: number;
}
