// Hand-built bytes for the packets the server sends often (CONNACK, PUBACK, DISCONNECT, PINGRESP)
// and the MQTT 5 reason codes ThingsBoard uses; rarer ones come from mqtt-packet's generator.
import type { DisconnectReason } from '../events.js';

/** CONNACK return codes, 3.1/3.1.1. */
export const CONNACK_V3 = { ACCEPTED: 0, IDENTIFIER_REJECTED: 2, SERVER_UNAVAILABLE: 3, NOT_AUTHORIZED: 5 } as const;

/** MQTT 5 reason codes used by ThingsBoard (and the emulator's faults). */
export const RC5 = {
  SUCCESS: 0x00,
  UNSPECIFIED: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC: 0x83,
  CLIENT_ID_NOT_VALID: 0x85,
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SESSION_TAKEN_OVER: 0x8e,
  SERVER_SHUTTING_DOWN: 0x8b,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  CONNECTION_RATE_EXCEEDED: 0x9f,
} as const;

/** Server-side close reasons → MQTT 5 DISCONNECT reason code (undefined = plain TCP close). */
export const V5_REASON: Partial<Record<DisconnectReason, number>> = {
  'session-taken-over': RC5.SESSION_TAKEN_OVER,
  'device-deleted': RC5.ADMINISTRATIVE_ACTION,
  'credentials-updated': RC5.ADMINISTRATIVE_ACTION,
  'idle-timeout': RC5.IMPLEMENTATION_SPECIFIC,
  'invalid-payload': RC5.PAYLOAD_FORMAT_INVALID,
  oversized: RC5.MALFORMED_PACKET,
  'protocol-error': RC5.PROTOCOL_ERROR,
  'rate-limited': RC5.IMPLEMENTATION_SPECIFIC,
  'gateway-error': RC5.IMPLEMENTATION_SPECIFIC,
  'ota-error': RC5.IMPLEMENTATION_SPECIFIC,
  'transport-error': RC5.SERVER_SHUTTING_DOWN,
  unimplemented: RC5.TOPIC_NAME_INVALID,
  'provision-topic': RC5.TOPIC_NAME_INVALID,
  'provision-error': RC5.IMPLEMENTATION_SPECIFIC,
  'queue-full': RC5.QUOTA_EXCEEDED,
};

export function connack(version: number, sessionPresent: boolean, code: number): Buffer {
  return version === 5
    ? Buffer.from([0x20, 0x03, sessionPresent ? 1 : 0, code, 0x00])
    : Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, code]);
}

export function disconnect5(reason: number): Buffer {
  return Buffer.from([0xe0, 0x02, reason, 0x00]);
}

export const PINGRESP = Buffer.from([0xd0, 0x00]);

/**
 * PUBACKs of one socket read, written as one buffer: one write per read, not per message
 * (docs/design.md#measured-design-choices). Reason 0 is encoded in the short 3.x/5 form.
 */
export class AckBatch {
  private ids: number[] = [];
  private reasons: number[] = [];
  private withReason = 0;

  add(packetId: number, reason = 0): void {
    this.ids.push(packetId);
    this.reasons.push(reason);
    if (reason !== 0) this.withReason++;
  }

  get size(): number {
    return this.ids.length;
  }

  /** The batch as bytes, and reset. */
  take(): Buffer {
    const n = this.ids.length;
    const buf = Buffer.allocUnsafe(n * 4 + this.withReason);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const id = this.ids[i];
      const r = this.reasons[i];
      buf[o++] = 0x40;
      buf[o++] = r === 0 ? 2 : 3;
      buf[o++] = id >> 8;
      buf[o++] = id & 0xff;
      if (r !== 0) buf[o++] = r;
    }
    this.ids = [];
    this.reasons = [];
    this.withReason = 0;
    return buf;
  }
}
