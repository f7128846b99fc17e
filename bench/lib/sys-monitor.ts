// Reads mosquitto's own counters from `$SYS` over one MQTT connection: PUBLISH messages
// received (the benchmark's ground truth for "delivered") and clients connected.
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export const SYS_PUBLISH_RECEIVED = '$SYS/broker/publish/messages/received';
export const SYS_CLIENTS_CONNECTED = '$SYS/broker/clients/connected';

export interface SysReading {
  value: number;
  /** performance.now() when the update arrived, ms */
  at: number;
}

type Waiter = { topic: string; pred: (r: SysReading) => boolean; resolve: (r: SysReading) => void };

/**
 * mosquitto publishes a `$SYS` topic once per `sys_interval` (1 s here) and only when its value
 * changed; the arrival time stands for the moment of the reading.
 */
export class SysMonitor {
  private readonly latest = new Map<string, SysReading>();
  private waiters: Waiter[] = [];

  private constructor(private readonly socket: Socket) {}

  static async open(host: string, port: number): Promise<SysMonitor> {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const mon = new SysMonitor(socket);
    const parser = mqttPacket.parser();
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(new Error(`$SYS monitor: ${e.message}`));
      socket.once('error', fail);
      parser.on('packet', (p) => {
        if (p.cmd === 'connack') {
          if (p.returnCode) return fail(new Error(`CONNACK ${p.returnCode}`));
          socket.write(
            mqttPacket.generate({
              cmd: 'subscribe',
              messageId: 1,
              subscriptions: [
                { topic: SYS_PUBLISH_RECEIVED, qos: 0 },
                { topic: SYS_CLIENTS_CONNECTED, qos: 0 },
              ],
            }),
          );
        } else if (p.cmd === 'suback') {
          socket.off('error', fail);
          socket.on('error', () => {});
          resolve();
        } else if (p.cmd === 'publish') {
          mon.onReading(p.topic, Number(p.payload.toString()));
        }
      });
      socket.on('data', (d) => parser.parse(d));
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: `bench-sys-${process.pid}`,
          clean: true,
          keepalive: 0,
        }),
      );
    });
    return mon;
  }

  private onReading(topic: string, value: number): void {
    const r = { value, at: performance.now() };
    this.latest.set(topic, r);
    const due = this.waiters.filter((w) => w.topic === topic && w.pred(r));
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve(r);
  }

  /** Last value seen (retained values arrive right after subscribing), or null. */
  current(topic: string): SysReading | null {
    return this.latest.get(topic) ?? null;
  }

  /** The next update of `topic` that satisfies `pred` (default: any), or null after `timeoutMs`. */
  next(topic: string, timeoutMs: number, pred: (r: SysReading) => boolean = () => true): Promise<SysReading | null> {
    return new Promise((resolve) => {
      const w: Waiter = {
        topic,
        pred,
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The value once it has stopped changing: no update for `quietMs` (updates come only on change). */
  async settled(topic: string, quietMs = 2500): Promise<number> {
    while (await this.next(topic, quietMs)) {
      /* still changing */
    }
    return this.current(topic)?.value ?? 0;
  }

  close(): void {
    this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
  }
}
