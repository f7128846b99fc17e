// Speed probe of the embedded emulator: the emulator runs as `tblab emulator` in its own process
// (pinned to CPU 0 when taskset exists), this process drives raw MQTT sockets (pinned to CPU 1) and
// reads the emulator's CPU time from /proc. Measures QoS 0 ingest and QoS 1 PUBACK latency.
// With --workers N the emulator runs N MQTT transport workers (device j → worker j mod N); CPU,
// reads and RSS are then the sums over the front and its workers (all pinned to CPU 0 with it).
//
// Usage: npm run build && node dist/bench/emulator-ingest.js [--devices 1000] [--qos0-rate 50000]
//        [--qos1-rate 20000] [--warmup 2] [--seconds 6] [--workers 0] [--no-burst] [--no-pin] [--json]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqttPacket from 'mqtt-packet';
import { createHistogram, recordMs, summarize } from '../src/metrics/hdr.js';
import type { Percentiles } from '../src/metrics/snapshot.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TOPIC = Buffer.from('v1/devices/me/telemetry');
const CLK_TCK = 100;

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    'qos0-rate': { type: 'string', default: '50000' },
    'qos1-rate': { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '6' },
    workers: { type: 'string', default: '0' },
    'no-burst': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const DEVICES = Number(args.devices);
const WARMUP_S = Number(args.warmup);
const MEASURE_S = Number(args.seconds);
const WORKERS = Number(args.workers);
const log = (s: string) => process.stderr.write(s + '\n');

interface Device {
  name: string;
  sock: net.Socket;
  seq: number;
  nextId: number;
  /** Send times (ms) of unacknowledged QoS 1 publishes, oldest first (the server acks in order). */
  sent: number[];
  sentHead: number;
  rest: Buffer | null;
}

/** The emulator's processes: the front, then its MQTT transport workers (none without --workers). */
type Pids = number[];
const sum = (pids: Pids, f: (pid: number) => number) => pids.reduce((n, pid) => n + f(pid), 0);

function procCpuTicks(pids: Pids): number {
  return sum(pids, (pid) => {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  });
}

function machineBusyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return cpu.reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
}

function readsOf(pids: Pids): number {
  return sum(pids, (pid) => {
    const m = /syscr:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  });
}

function rssMb(pids: Pids): number {
  return sum(pids, (pid) => {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  });
}

async function startEmulator(pin: boolean): Promise<{ child: ChildProcess; restUrl: string; ports: number[]; pids: Pids }> {
  const argv = [MAIN, 'emulator', '--http-port', '0', '--mqtt-port', '0', '--session-timeout', '3600', '--workers', String(WORKERS)];
  const child = pin
    ? spawn('taskset', ['-c', '0', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const lines = await new Promise<string[]>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const ls = out.split('\n').filter(Boolean);
      if (ls.some((l) => l.startsWith('MQTT '))) resolve(ls);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const restUrl = lines[0].slice(5);
  const endpoints = lines
    .find((l) => l.startsWith('MQTT_ENDPOINTS '))
    ?.slice(15)
    .split(',');
  const ports = endpoints ? endpoints.map((e) => Number(e.slice(e.lastIndexOf(':') + 1))) : [Number(new URL(lines.at(-1)!.slice(5)).port)];
  const st = (await (await fetch(`${restUrl}/__emulator/stats?perDevice=0`)).json()) as { workers: Array<{ pid: number }> | null };
  return { child, restUrl, ports, pids: [child.pid!, ...(st.workers ?? []).map((w) => w.pid)] };
}

async function provision(restUrl: string): Promise<string[]> {
  const login = await fetch(`${restUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'tenant@thingsboard.org', password: 'tenant' }),
  });
  const { token } = (await login.json()) as { token: string };
  const names = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i + 1).padStart(5, '0')}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < names.length) {
        const name = names[next++];
        const r = await fetch(`${restUrl}/api/device?accessToken=${name}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Authorization': `Bearer ${token}` },
          body: JSON.stringify({ name }),
        });
        if (r.status !== 200) throw new Error(`create ${name}: ${r.status} ${await r.text()}`);
      }
    }),
  );
  return names;
}

function connectAll(ports: number[], names: string[], onAck: (d: Device, n: number) => void): Promise<Device[]> {
  return Promise.all(
    names.map(
      (name, j) =>
        new Promise<Device>((resolve, reject) => {
          const sock = net.connect(ports[j % ports.length], '127.0.0.1');
          sock.setNoDelay(true);
          const d: Device = { name, sock, seq: 0, nextId: 1, sent: [], sentHead: 0, rest: null };
          let connected = false;
          sock.once('connect', () =>
            sock.write(
              mqttPacket.generate({
                cmd: 'connect',
                protocolId: 'MQTT',
                protocolVersion: 4,
                clientId: name,
                clean: true,
                keepalive: 0,
                username: name,
              }),
            ),
          );
          sock.on('data', (chunk: Buffer) => {
            const buf = d.rest ? Buffer.concat([d.rest, chunk]) : chunk;
            let off = 0;
            if (!connected) {
              if (buf.length < 4) return void (d.rest = buf);
              if (buf[3] !== 0) return reject(new Error(`CONNACK ${buf[3]} for ${name}`));
              connected = true;
              off = 4;
              resolve(d);
            }
            let acks = 0;
            while (off + 4 <= buf.length) {
              if (buf[off] === 0x40) acks++;
              off += 2 + buf[off + 1];
            }
            d.rest = off < buf.length ? buf.subarray(off) : null;
            if (acks) onAck(d, acks);
          });
          sock.on('error', reject);
        }),
    ),
  );
}

/** Width of the sequence slot in the payload template: digits, then JSON whitespace. */
const SEQ_SLOT = 10;

/** A lab-like ~260-byte payload with a blank slot for `sequence` (the generator only fills digits in). */
function payloadTemplate(name: string): { buf: Buffer; seqAt: number } {
  const head = `{"timestamp":"${new Date().toISOString()}","device":"${name}","sequence":`;
  const tail =
    `,"temperature":${(20 + Math.random() * 5).toFixed(2)},"humidity":${(40 + Math.random() * 20).toFixed(2)},"battery":${(80 + Math.random() * 20).toFixed(1)},` +
    `"cpu_usage_percent":${(Math.random() * 100).toFixed(1)},"memory_usage_mb":${(200 + Math.random() * 300).toFixed(1)},"network_latency_ms":${(5 + Math.random() * 50).toFixed(1)},"status":"online","issue":null}`;
  return { buf: Buffer.from(head + ' '.repeat(SEQ_SLOT) + tail), seqAt: Buffer.byteLength(head) };
}

const templates = new Map<string, { buf: Buffer; seqAt: number }>();

function publishFrame(d: Device, qos: 0 | 1): Buffer {
  d.seq++;
  let t = templates.get(d.name);
  if (!t) templates.set(d.name, (t = payloadTemplate(d.name)));
  const rem = 2 + TOPIC.length + (qos ? 2 : 0) + t.buf.length;
  const lenBytes = rem < 128 ? 1 : 2;
  const buf = Buffer.allocUnsafe(1 + lenBytes + rem);
  let o = 0;
  buf[o++] = 0x30 | (qos << 1);
  if (lenBytes === 1) buf[o++] = rem;
  else {
    buf[o++] = (rem & 0x7f) | 0x80;
    buf[o++] = rem >> 7;
  }
  buf.writeUInt16BE(TOPIC.length, o);
  o += 2;
  o += TOPIC.copy(buf, o);
  if (qos) {
    buf.writeUInt16BE(d.nextId, o);
    o += 2;
    d.nextId = d.nextId === 65535 ? 1 : d.nextId + 1;
  }
  t.buf.copy(buf, o);
  buf.write(String(d.seq), o + t.seqAt, 'latin1');
  return buf;
}

async function stats(restUrl: string): Promise<number> {
  const r = (await (await fetch(`${restUrl}/__emulator/stats?perDevice=0`)).json()) as { messages: number };
  return r.messages;
}

interface PhaseResult {
  qos: 0 | 1;
  /** The rate asked for, and what the generator actually wrote (lower when it fell behind). */
  targetPerSec: number;
  offeredPerSec: number;
  ingestedPerSec: number;
  serverCpuPercent: number;
  serverCpuUsPerMsg: number;
  /** With --workers: the front's share of serverCpuUsPerMsg (the rest is the workers'). */
  frontCpuUsPerMsg: number;
  msgsPerRead: number;
  foreignCpuPercent: number;
  generatorCpuPercent: number;
  serverRssMb: number;
  puback: Percentiles | null;
  unacked: number;
  /** p99 event-loop delay of this generator, ms: PUBACK latency below this is the generator's own lag. */
  generatorLagP99Ms: number;
}

async function phase(
  devices: Device[],
  pid: Pids,
  restUrl: string,
  qos: 0 | 1,
  rate: number,
  ack: { hist: ReturnType<typeof createHistogram> | null; pending: number },
): Promise<PhaseResult> {
  const t0 = performance.now();
  let sent = 0;
  let cursor = 0;
  let measuring = false;
  let sentInWindow = 0;
  const timer = setInterval(() => {
    // at most 50 ms of backlog per tick: a late generator offers less instead of bursting
    const now = performance.now();
    const due = Math.min(Math.floor(((now - t0) / 1000) * rate) - sent, Math.ceil(rate / 20));
    for (let i = 0; i < due; i++) {
      const d = devices[cursor];
      cursor = (cursor + 1) % devices.length;
      d.sock.write(publishFrame(d, qos));
      if (qos) {
        d.sent.push(measuring ? now : -1);
        ack.pending++;
      }
    }
    sent = Math.max(sent + Math.max(0, due), Math.floor(((now - t0) / 1000) * rate) - Math.ceil(rate / 20));
    if (measuring) sentInWindow += Math.max(0, due);
  }, 10);
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  ack.hist = qos ? createHistogram() : null;
  measuring = true;
  const m0 = await stats(restUrl);
  const c0 = procCpuTicks(pid);
  const f0 = procCpuTicks(pid.slice(0, 1));
  const b0 = machineBusyTicks();
  const r0 = readsOf(pid);
  const g0 = process.cpuUsage();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
  const w1 = performance.now();
  measuring = false;
  const offered = sentInWindow;
  const c1 = procCpuTicks(pid);
  const f1 = procCpuTicks(pid.slice(0, 1));
  const b1 = machineBusyTicks();
  const r1 = readsOf(pid);
  const g1 = process.cpuUsage(g0);
  lag.disable();
  const m1 = await stats(restUrl);
  clearInterval(timer);
  const deadline = Date.now() + 10000;
  while (qos && ack.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const secs = (w1 - w0) / 1000;
  const msgs = m1 - m0;
  const serverTicks = c1 - c0;
  const genTicks = ((g1.user + g1.system) / 1e6) * CLK_TCK;
  const foreign = Math.max(0, b1 - b0 - serverTicks - genTicks);
  return {
    qos,
    targetPerSec: rate,
    offeredPerSec: Math.round(offered / secs),
    ingestedPerSec: Math.round(msgs / secs),
    serverCpuPercent: Math.round((serverTicks / CLK_TCK / secs) * 100),
    serverCpuUsPerMsg: Number((((serverTicks / CLK_TCK) * 1e6) / msgs).toFixed(1)),
    frontCpuUsPerMsg: Number(((((f1 - f0) / CLK_TCK) * 1e6) / msgs).toFixed(1)),
    msgsPerRead: Number((msgs / (r1 - r0)).toFixed(2)),
    foreignCpuPercent: Math.round((foreign / CLK_TCK / secs) * 100),
    generatorCpuPercent: Math.round((genTicks / CLK_TCK / secs) * 100),
    serverRssMb: rssMb(pid),
    puback: ack.hist ? summarize(ack.hist) : null,
    unacked: ack.pending,
    generatorLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)),
  };
}

interface BurstResult {
  /** Messages queued in socket buffers while the emulator was not reading. */
  backlog: number;
  drainMs: number;
  /** Ingest rate while draining the backlog (reads batched, the emulator's ceiling on one core). */
  drainedPerSec: number;
  serverCpuPercent: number;
  serverCpuUsPerMsg: number;
}

/** Builds a backlog while the emulator stalls, then times how fast it drains it. */
async function burst(devices: Device[], pid: Pids, restUrl: string, stallMs: number, rate: number): Promise<BurstResult> {
  const before = await stats(restUrl);
  const sentBefore = devices.reduce((n, d) => n + d.seq, 0);
  await fetch(`${restUrl}/__emulator/stall?ms=${stallMs}`, { method: 'POST' });
  const t0 = performance.now();
  let sent = 0;
  let cursor = 0;
  const timer = setInterval(() => {
    const due = Math.min(Math.floor(((performance.now() - t0) / 1000) * rate) - sent, Math.ceil(rate / 20));
    for (let i = 0; i < due; i++) {
      const d = devices[cursor];
      cursor = (cursor + 1) % devices.length;
      d.sock.write(publishFrame(d, 0));
    }
    sent += Math.max(0, due);
  }, 10);
  await new Promise((r) => setTimeout(r, stallMs - 300));
  clearInterval(timer);
  const backlog = devices.reduce((n, d) => n + d.seq, 0) - sentBefore;
  while (performance.now() - t0 < stallMs) await new Promise((r) => setTimeout(r, 2));
  const c0 = procCpuTicks(pid);
  const w0 = performance.now();
  let done = before;
  while (done < before + backlog) {
    await new Promise((r) => setTimeout(r, 10));
    done = await stats(restUrl);
  }
  const drainMs = performance.now() - w0;
  const ticks = procCpuTicks(pid) - c0;
  return {
    backlog,
    drainMs: Math.round(drainMs),
    drainedPerSec: Math.round(backlog / (drainMs / 1000)),
    serverCpuPercent: Math.round((ticks / CLK_TCK / (drainMs / 1000)) * 100),
    serverCpuUsPerMsg: Number((((ticks / CLK_TCK) * 1e6) / backlog).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const pin = !args['no-pin'] && existsSync('/usr/bin/taskset') && (await import('node:os')).cpus().length >= 2;
  if (pin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const { child, restUrl, ports, pids } = await startEmulator(pin);
  try {
    log(
      `emulator pids ${pids.join(', ')} at ${restUrl}, mqtt ports ${ports.join(', ')}${pin ? ' (emulator on CPU 0, generator on CPU 1)' : ''}`,
    );
    const names = await provision(restUrl);
    const ack = { hist: null as ReturnType<typeof createHistogram> | null, pending: 0 };
    const devices = await connectAll(ports, names, (d, n) => {
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        const t = d.sent[d.sentHead++];
        ack.pending--;
        if (t >= 0 && ack.hist) recordMs(ack.hist, now - t);
      }
      if (d.sentHead > 1024) {
        d.sent = d.sent.slice(d.sentHead);
        d.sentHead = 0;
      }
    });
    log(`${devices.length} devices provisioned and connected; warm-up ${WARMUP_S} s, window ${MEASURE_S} s per phase`);
    const results = [
      await phase(devices, pids, restUrl, 0, Number(args['qos0-rate']), ack),
      await phase(devices, pids, restUrl, 1, Number(args['qos1-rate']), ack),
    ];
    const drain = args['no-burst'] ? null : await burst(devices, pids, restUrl, 5000, Number(args['qos0-rate']));
    const sent = devices.reduce((n, d) => n + d.seq, 0);
    await new Promise((r) => setTimeout(r, 500));
    const all = (await (await fetch(`${restUrl}/__emulator/stats`)).json()) as {
      messages: number;
      perDevice: Record<string, { gaps: number; duplicates: number }>;
    };
    const gaps = Object.values(all.perDevice).reduce((n, d) => n + d.gaps, 0);
    const dups = Object.values(all.perDevice).reduce((n, d) => n + d.duplicates, 0);
    log(`reconciliation: ${sent} sent, ${all.messages} stored, ${gaps} gaps, ${dups} duplicates`);
    for (const d of devices) d.sock.destroy();
    if (args.json)
      process.stdout.write(
        JSON.stringify({ devices: DEVICES, workers: WORKERS, node: process.version, results, burst: drain }, null, 2) + '\n',
      );
    log(
      '| QoS | target / offered msg/s | ingested msg/s | server CPU % | µs/msg (front) | msgs/read | PUBACK p50 / p99 / max ms | RSS MB | foreign CPU % | generator lag p99 ms |',
    );
    log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const p = r.puback ? `${r.puback.p50?.toFixed(1)} / ${r.puback.p99?.toFixed(1)} / ${r.puback.max?.toFixed(1)}` : '-';
      log(
        `| ${r.qos} | ${r.targetPerSec} / ${r.offeredPerSec} | ${r.ingestedPerSec} | ${r.serverCpuPercent} | ${r.serverCpuUsPerMsg} (${r.frontCpuUsPerMsg}) | ${r.msgsPerRead} | ${p} | ${r.serverRssMb} | ${r.foreignCpuPercent} | ${r.generatorLagP99Ms} |`,
      );
    }
    if (drain)
      log(
        `burst: ${drain.backlog} messages queued during a 5 s stall drained in ${drain.drainMs} ms = ${drain.drainedPerSec} msg/s at ${drain.serverCpuPercent} % CPU (${drain.serverCpuUsPerMsg} µs/msg)`,
      );
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
