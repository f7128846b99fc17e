// CONNECT decisions that follow ThingsBoard's MQTT transport to the byte: which code a refused
// CONNECT gets, and which client ids Netty's decoder lets through.
import { CONNACK_V3, RC5 } from './packets.js';

/**
 * The CONNACK code of a CONNECT whose credentials matched no device, as
 * MqttTransportHandler.onValidateDeviceResponse picks it (then ReturnCodeResolver.getConnectionReturnCode maps
 * it to 3.1/3.1.1): username and password both present, or exactly one of them → bad username or password
 * (an empty username `""` counts as present); neither and a non-blank client id → client id not valid; else
 * not authorized.
 */
export function refusalCode(
  v5: boolean,
  hasUsername: boolean,
  hasPassword: boolean,
  clientId: string,
): { code: number; identifier: boolean } {
  if ((hasUsername && hasPassword) || hasUsername !== hasPassword) {
    return { code: v5 ? RC5.BAD_USERNAME_OR_PASSWORD : CONNACK_V3.NOT_AUTHORIZED, identifier: false };
  }
  if (clientId.trim() !== '') return { code: v5 ? RC5.CLIENT_ID_NOT_VALID : CONNACK_V3.IDENTIFIER_REJECTED, identifier: true };
  return { code: v5 ? RC5.NOT_AUTHORIZED : CONNACK_V3.NOT_AUTHORIZED, identifier: false };
}

/**
 * Netty's MqttDecoder (MqttCodecUtil.isValidClientId): an MQTT 3.1 client id must be 1–23 characters; a
 * longer or empty one fails the decode, and MqttTransportHandler.channelRead closes the channel without a CONNACK.
 */
export function clientIdAllowed(protocolVersion: number, clientId: string): boolean {
  return protocolVersion !== 3 || (clientId.length >= 1 && clientId.length <= 23);
}
