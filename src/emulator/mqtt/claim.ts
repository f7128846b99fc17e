// `v1/devices/me/claim`: MqttTransportHandler#processDevicePublish → JsonMqttAdaptor.convertToClaimDevice →
// the device actor's ClaimDevicesService.registerClaimingInfo (claim.ts). The PUBACK follows the transport's
// callback, which fires once the message is queued: a registration the service then refuses (the device has a
// customer, one is pending) is acknowledged all the same.
import { parseClaimPayload } from '../claim.js';
import type { Session } from './session.js';

export const CLAIM_TOPIC = 'v1/devices/me/claim';

export function onClaimPublish(s: Session, payload: string, qos: number, packetId: number, now: number): void {
  const d = s.device!;
  let claim: { secretKey: string; durationMs: number };
  try {
    claim = parseClaimPayload(payload);
  } catch {
    return s.invalidPayload(qos, packetId);
  }
  // DefaultTransportService.process(ClaimDeviceMsg): checkLimits, then recordActivity
  if (!s.server.ingest.admit(d, null, now, 'mqtt')) return s.close('rate-limited');
  d.state.lastActivityTime = now;
  s.server.store.claims.register(d, claim.secretKey, claim.durationMs);
  if (qos > 0) s.ack(packetId);
}
