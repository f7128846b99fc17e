// The floor the lab is compared with: a minimal MQTT writer in its own process. Pre-encoded
// CONNECT/PUBLISH packets over raw sockets, a round-robin cursor ticking every 10 ms; no scheduler,
// no payload generation, no metrics. Same machine, same target, same invocation as the lab.
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { readSpec, tell, TELEMETRY_TOPIC, type ToGen } from './lib/protocol.js';

const TICK_MS = 10;
/** Flat out: messages per socket per pass, corked into one write (backed-up sockets are skipped). */
const FLAT_BATCH = 8;
/** Start this many unlimited-rate connects per event-loop turn. */
const CONNECT_CHUNK = 500;

const spec = readSpec();
const n = spec.devices;
const socks: Socket[] = new Array(n);
let connected = 0;
let failed = 0;
let sent = 0;
/** Bytes received after CONNACK: only 4-byte PUBACKs arrive then. */
let ackBytes = 0;
let publishing = false;

const payload = Buffer.alloc(spec.payloadBytes, 'x');
payload.write('{"temperature":21.5,"humidity":40.2,"sequence":1}');
const template = mqttPacket.generate({
  cmd: 'publish',
  topic: TELEMETRY_TOPIC,
  payload,
  qos: spec.qos,
  messageId: spec.qos ? 1 : undefined,
  retain: false,
  dup: false,
});
/** QoS 1: where the 2-byte packet id sits (after fixed header, topic length and topic). */
const idOffset = template.length - payload.length - 2;
const msgIds = new Uint16Array(n);

function packet(i: number): Buffer {
  if (spec.qos === 0) return template;
  // a packet handed to write() may still be queued: never patch it in place
  const b = Buffer.allocUnsafe(template.length);
  template.copy(b);
  msgIds[i] = (msgIds[i] % 65535) + 1;
  b.writeUInt16BE(msgIds[i], idOffset);
  return b;
}

const t0 = performance.now();
function open(i: number): void {
  const addr = spec.sourceAddresses.length ? spec.sourceAddresses[i % spec.sourceAddresses.length] : undefined;
  const s = connect({ host: spec.host, port: spec.port, localAddress: addr });
  s.setNoDelay(true);
  socks[i] = s;
  let gotConnack = false;
  s.once('connect', () => {
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: `base-${i}`,
        username: `token-${i}`,
        clean: true,
        keepalive: 60,
      }),
    );
  });
  s.on('data', (d: Buffer) => {
    let off = 0;
    if (!gotConnack) {
      gotConnack = true;
      off = 4;
      if (d[3] !== 0) return fail(`CONNACK return code ${d[3]}`);
      if (++connected === n) tell({ type: 'connected', connected, seconds: (performance.now() - t0) / 1000 });
    }
    ackBytes += d.length - off;
  });
  const fail = (why: string) => {
    failed++;
    s.destroy();
    if (!publishing) tell({ type: 'error', message: `baseline: connection ${i} failed: ${why}` });
  };
  s.on('error', (e) => fail(e.message));
}

function openAll(): void {
  let next = 0;
  if (spec.connectRate > 0) {
    const perTick = spec.connectRate / (1000 / TICK_MS);
    let budget = 0;
    const t = setInterval(() => {
      for (budget += perTick; budget >= 1 && next < n; budget--) open(next++);
      if (next === n) clearInterval(t);
    }, TICK_MS);
  } else {
    const chunk = () => {
      for (const end = Math.min(n, next + CONNECT_CHUNK); next < end;) open(next++);
      if (next < n) setImmediate(chunk);
    };
    chunk();
  }
}

function pacedWriter(totalRate: number): () => void {
  const start = performance.now();
  let cursor = 0;
  const t = setInterval(() => {
    const due = Math.floor((totalRate * (performance.now() - start)) / 1000) - sent;
    for (let k = 0; k < due; k++) {
      socks[cursor].write(packet(cursor));
      if (++cursor === n) cursor = 0;
    }
    sent += Math.max(0, due);
  }, TICK_MS);
  return () => clearInterval(t);
}

function flatOutWriter(): () => void {
  let stopped = false;
  const pass = () => {
    if (stopped) return;
    let wrote = 0;
    for (let i = 0; i < n; i++) {
      const s = socks[i];
      if (s.writableLength > 0 || s.destroyed) continue;
      s.cork();
      for (let k = 0; k < FLAT_BATCH; k++) s.write(packet(i));
      s.uncork();
      wrote += FLAT_BATCH;
    }
    sent += wrote;
    if (wrote) setImmediate(pass);
    else setTimeout(pass, 1);
  };
  pass();
  return () => {
    stopped = true;
  };
}

let stopWriter = () => {};
process.on('message', (m: ToGen) => {
  if (m.type !== 'stop') return;
  stopWriter();
  // send DISCONNECT and let mosquitto close first, so TIME_WAIT lands on the server side and
  // the next phase's bind() on the same source addresses finds its ports free
  let open = 0;
  const closed = () => {
    if (--open === 0) finish();
  };
  for (const s of socks) {
    if (!s || s.destroyed) continue;
    open++;
    s.once('close', closed);
    s.write(mqttPacket.generate({ cmd: 'disconnect' }));
  }
  if (open === 0) finish();
  setTimeout(() => {
    for (const s of socks) s?.destroy();
  }, 5000).unref();
});

function finish(): void {
  tell({ type: 'done', sent, acked: Math.floor(ackBytes / 4), failed, scheduleLagP99Ms: null, ackP50Ms: null, ackP99Ms: null, extra: {} });
  process.disconnect?.();
}

openAll();
// publishing starts once everyone is connected (the harness measures after a warm-up)
const waitAll = setInterval(() => {
  if (connected < n) return;
  clearInterval(waitAll);
  publishing = true;
  if (spec.ratePerDevice === 'max') stopWriter = flatOutWriter();
  else if (spec.ratePerDevice > 0) stopWriter = pacedWriter(spec.ratePerDevice * n);
}, TICK_MS);
