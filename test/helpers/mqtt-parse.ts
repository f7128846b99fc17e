// Decodes bytes the lab writes with mqtt-packet, the MQTT.js parser: an independent reading of the
// packets the device side hand-encodes.
import mqttPacket from 'mqtt-packet';

/** Every packet in `buf`; a malformed one throws. */
export function parseMqtt(buf: Buffer, protocolVersion: 4 | 5): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => {
    throw e;
  });
  parser.parse(buf);
  return out;
}
