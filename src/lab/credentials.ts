// Device credentials between ThingsBoard's shape (§2.5) and the token file's, plus the access
// token generator (20 alphanumerics, like the server's own).
import { randomBytes } from 'node:crypto';
import type { DeviceCredentials } from '../common/fleet.js';
import type { TbDeviceCredentials } from '../thingsboard/types.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random 20-character alphanumeric access token (rejection sampling: no modulo bias). */
export function generateAccessToken(length = 20): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/**
 * The token-file form of the server's credentials, or null for kinds the lab cannot connect
 * with (X.509: the server holds only the certificate, never the private key; LwM2M).
 */
export function fromServerCredentials(c: TbDeviceCredentials): DeviceCredentials | null {
  if (c.credentialsType === 'ACCESS_TOKEN') return { type: 'ACCESS_TOKEN', token: c.credentialsId };
  if (c.credentialsType === 'MQTT_BASIC') {
    let v: { clientId?: string; userName?: string; password?: string } = {};
    try {
      v = JSON.parse(c.credentialsValue ?? '{}');
    } catch {
      /* malformed value: treat as empty */
    }
    return { type: 'MQTT_BASIC', clientId: v.clientId ?? null, username: v.userName ?? null, password: v.password ?? null };
  }
  return null;
}
