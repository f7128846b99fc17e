// The emulator's typed event stream: what the MQTT and HTTP sides did, for tests, the lab's
// delivery check and the WebSocket API. Emitting is skipped on hot paths when nobody listens.
import { EventEmitter } from 'node:events';

/** Why a session ended. `client-*` = the client's doing; the rest are the server's. */
export type DisconnectReason =
  | 'client-disconnect' // DISCONNECT packet
  | 'client-closed' // socket closed or reset by the client
  | 'session-taken-over' // same token connected again (v5 DISCONNECT 0x8E)
  | 'device-deleted' // v5 DISCONNECT 0x98
  | 'credentials-updated' // v5 DISCONNECT 0x98
  | 'idle-timeout' // no packet for the inactivity timeout (v5 0x83)
  | 'connect-timeout' // no complete CONNECT within connectTimeoutMs of the socket opening
  | 'queue-full' // more packets than msgQueueLimit before the session was set up (v5 DISCONNECT 0x97)
  | 'invalid-payload' // bad JSON on 3.x, or QoS 0 on v5 (v5 DISCONNECT 0x99)
  | 'oversized' // packet over the size limit (v5 DISCONNECT 0x81)
  | 'protocol-error' // unparsable packet, or a packet before CONNECT
  | 'rate-limited' // transport rate limit exceeded (v5 DISCONNECT 0x83)
  | 'fault-drop' // the dropShare/dropAfterSec fault
  | 'gateway-error' // a gateway publish ThingsBoard fails with a RuntimeException (v5 DISCONNECT 0x83)
  | 'ota-error' // a v2/fw or v2/sw chunk request: no OTA package (ThingsBoard's sendOtaPackageError, v5 DISCONNECT 0x83)
  | 'transport-error' // an exception ThingsBoard's MQTT handler does not catch (exceptionCaught, v5 DISCONNECT 0x8B)
  | 'unimplemented' // a ThingsBoard topic the emulator does not imitate, on 3.x or QoS 0 (v5 DISCONNECT 0x90)
  | 'provision-topic' // a provisioning session published elsewhere than /provision/request (v5 DISCONNECT 0x90)
  | 'provision-error' // an unreadable provision request: no key or secret, a bad field (v5 DISCONNECT 0x83)
  | 'provision-done' // a provisioning session 60 s after its answer (closed without DISCONNECT)
  | 'worker-exit' // the MQTT transport worker holding the socket died (--workers)
  | 'server-close'; // emulator shutting down

export interface TelemetryEvent {
  deviceId: string;
  deviceName: string;
  /** Point time, ms. */
  ts: number;
  /** Key/values as published (null values are not stored). */
  values: Record<string, unknown>;
}

export interface EmulatorEventMap {
  connect: [{ deviceId: string; deviceName: string; sessionId: number; protocolVersion: number; remote: string }];
  connectRefused: [
    {
      returnCode: number;
      reason: 'bad-credentials' | 'identifier-rejected' | 'fault-refuse' | 'connection-cap' | 'validation-timeout' | 'protocol';
      username?: string;
    },
  ];
  disconnect: [{ deviceId: string; deviceName: string; sessionId: number; reason: DisconnectReason }];
  telemetry: [TelemetryEvent];
  attributes: [
    { deviceId: string; deviceName: string; scope: 'CLIENT_SCOPE' | 'SERVER_SCOPE' | 'SHARED_SCOPE'; values: Record<string, unknown> },
  ];
  /** Attribute keys deleted over REST. */
  attributesDeleted: [{ deviceId: string; scope: 'CLIENT_SCOPE' | 'SERVER_SCOPE' | 'SHARED_SCOPE'; keys: string[] }];
  deviceCreated: [{ deviceId: string; deviceName: string }];
  deviceDeleted: [{ deviceId: string; deviceName: string }];
  /** An MQTT transport worker died; its sessions were closed and it restarts on its port (--workers). */
  workerExit: [{ index: number; port: number; code: number | null; signal: string | null; sockets: number }];
  rateLimited: [{ scope: 'device' | 'tenant' | 'rest'; deviceName?: string; transport?: 'mqtt' | 'http' }];
}

export type EmulatorEvents = EventEmitter<EmulatorEventMap>;

export function createEvents(): EmulatorEvents {
  const e = new EventEmitter<EmulatorEventMap>();
  e.setMaxListeners(0);
  return e;
}
