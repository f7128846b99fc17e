// What a session asks of ThingsBoard that the emulator does not imitate: counted under its family in stats'
// `unimplemented` and refused visibly (v5 PUBACK 0x90 at QoS 1, otherwise the session is closed), never a
// quiet PUBACK for work that was not done.
import { RC5 } from './packets.js';
import type { Session } from './session.js';

export function countUnimplemented(s: Session, family: string): void {
  const counts = s.server.counters.unimplemented;
  counts[family] = (counts[family] ?? 0) + 1;
}

export function refuseUnimplemented(s: Session, family: string, qos: number, packetId: number): void {
  countUnimplemented(s, family);
  if (s.version === 5 && qos > 0) return s.ack(packetId, RC5.TOPIC_NAME_INVALID);
  s.close('unimplemented');
}
