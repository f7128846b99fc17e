// The run log, a sink: `logs/<run-id>.log`, one human line per event of every shard in time order
// (connects, disconnects with their cause, errors, failed publishes, pauses, shard starts and
// crashes), the run's own lines (start, notes, stop, end) and one `Metrics | …` line per merged
// snapshot (once a second). Markers `[INFO]`, `[WARN]`, `[ERR]`, `[MQTT]` and `Metrics |` are
// those of the Python lab this one replaces, so `grep -i 'Metrics |\|\[MQTT\]\|\[ERR\]'` works on
// it. The per-shard JSONL (src/engine/run-files.ts) stays the machines' record. Per-publish lines
// (the publish and its PUBACK) only with LOG_EVERY_MESSAGE: otherwise the shards' 1-in-1,000
// publish samples stay in the JSONL only.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import type { ShardEvent } from '../engine/protocol.js';
import type { RunSink } from './pipeline/sink.js';

export interface RunLogOptions {
  /** Data folder of the run (`DATA_DIR`, or its `embedded/` folder). */
  dataDir: string;
  logEveryMessage: boolean;
}

interface Line {
  ts: number;
  /** arrival order, so lines of the same millisecond keep it */
  n: number;
  text: string;
}

/** `2026-12-02 16:30:01.123` (UTC), the shape of Python logging's timestamps with a dot. */
export function logTime(ts: number): string {
  return new Date(ts).toISOString().replace('T', ' ').slice(0, 23);
}

const ms = (x: unknown) => (typeof x === 'number' ? `${Math.round(x * 10) / 10} ms` : '? ms');

/** The log line of one shard event (without time), null for events the log leaves to the JSONL. */
export function eventLine(shard: number, e: ShardEvent, logEveryMessage: boolean): string | null {
  const dev = e.device ?? '?';
  switch (e.ev) {
    case 'connected':
      return `[INFO] [MQTT] ${dev} connected in ${ms(e.connectMs)} (shard ${shard})`;
    case 'connect-failed':
      return `[ERR] [MQTT] ${dev} connect failed: ${String(e.cause)} (class ${String(e.class)})`;
    case 'disconnect': {
      const lost = typeof e.lostInFlight === 'number' && e.lostInFlight > 0 ? `; ${e.lostInFlight} publish(es) in flight failed` : '';
      return `[WARN] [MQTT] ${dev} disconnected: ${String(e.cause)} (class ${String(e.class)})${lost}`;
    }
    case 'ack-timeout':
      return `[ERR] [MQTT] ${dev} publish failed: ${String(e.count)} not acknowledged within ACK_TIMEOUT_MS`;
    case 'error':
      return `[ERR] [MQTT] ${dev} publish failed: ${String(e.error)}${e.packetId ? ` (packet ${String(e.packetId)})` : ''}`;
    case 'paused':
      return `[WARN] ${dev} paused (disabled-devices file)`;
    case 'resumed':
      return `[INFO] ${dev} resumed`;
    case 'publish':
      if (!logEveryMessage) return null;
      return (
        `[INFO] [MQTT] ${dev} PUBLISH sequence ${String(e.sequence)}, ${String(e.bytes)} B` +
        (e.packetId ? `, packet ${String(e.packetId)}` : ', QoS 0 (no ack)') +
        `, ${ms(e.lagMs)} behind schedule`
      );
    case 'acked':
      return `[INFO] [MQTT] ${dev} PUBACK packet ${String(e.packetId)} in ${ms(e.ackMs)}`;
    case 'shard':
      return shardLine(shard, e);
    default:
      return `[INFO] ${dev} ${e.ev}`;
  }
}

function shardLine(shard: number, e: ShardEvent): string {
  switch (e.what) {
    case 'start':
      return `[INFO] shard ${shard} started: pid ${String(e.pid)}, ${String(e.devices)} devices`;
    case 'stopping':
      return `[INFO] shard ${shard} stopping: ${String(e.inFlight)} publish(es) in flight`;
    case 'stopped':
      return `[INFO] shard ${shard} stopped`;
    case 'crashed':
      return `[ERR] shard ${shard} (pid ${String(e.pid)}) crashed: ${String(e.exit)}; its devices stopped`;
    case 'fatal':
      return `[ERR] shard ${shard} failed: ${String(e.error)}`;
    default:
      return `[INFO] shard ${shard} ${String(e.what)}`;
  }
}

/** The `Metrics | …` line of a merged snapshot (without time). */
export function metricsLine(s: MetricsSnapshot): string {
  const c = s.connections,
    t = s.traffic,
    l = s.latency;
  const p99 = (x: number | null) => (x === null ? '-' : `${x} ms`);
  return [
    `[INFO] Metrics | ${s.state} +${Math.round(s.elapsedSec)}s`,
    `connected ${c.connected}/${c.configured} (paused ${c.paused})`,
    `sent ${t.sent} (${t.sentPerSec}/s)`,
    `acked ${t.acked} (${t.ackedPerSec}/s)`,
    `failed ${t.failed}`,
    `skipped ${t.skipped}`,
    `in flight ${t.inFlight}`,
    `disconnects ${s.disconnects.total}`,
    `errors ${s.errors.total}`,
    `ack p99 ${p99(l.ackMs.p99)}`,
    `lag p99 ${p99(l.scheduleLagMs.p99)}`,
  ].join(' | ');
}

/**
 * The run log sink. Shards report once a second on their own clocks, so a line is held until every
 * shard still running has reported past its time (the lowest `at` of their latest batches), then
 * written in time order; whatever is left is written at the end.
 */
export function runLog(o: RunLogOptions): RunSink & { readonly path: string | null } {
  let out: WriteStream | null = null;
  let rel: string | null = null;
  let n = 0;
  let pending: Line[] = [];
  const shardAt = new Map<number, number>();
  const finished = new Set<number>();
  let shardIds: number[] = [];
  const push = (ts: number, text: string) => pending.push({ ts, n: n++, text });
  const flush = (upTo: number) => {
    if (!out || pending.length === 0) return;
    pending.sort((a, b) => a.ts - b.ts || a.n - b.n);
    let k = 0;
    while (k < pending.length && pending[k].ts <= upTo) k++;
    if (k === 0) return;
    out.write(
      pending
        .slice(0, k)
        .map((l) => `${logTime(l.ts)} ${l.text}\n`)
        .join(''),
    );
    pending = pending.slice(k);
  };
  /** Every event up to here has arrived from every shard still running. */
  const watermark = () => {
    let w = Infinity;
    for (const id of shardIds) {
      if (finished.has(id)) continue;
      const at = shardAt.get(id);
      if (at === undefined) return -Infinity;
      w = Math.min(w, at);
    }
    return w;
  };
  return {
    name: 'run log',
    get path() {
      return rel;
    },
    start(run) {
      rel = join('logs', `${run.runId}.log`);
      const file = join(o.dataDir, rel);
      mkdirSync(dirname(file), { recursive: true });
      out = createWriteStream(file, { flags: 'a' });
      out.on('error', () => {
        out = null;
      }); // a full disk ends the log, not the run
    },
    log(line) {
      push(Date.now(), /^note: /.test(line) ? `[WARN] ${line}` : `[INFO] ${line}`);
    },
    events(b) {
      for (const e of b.events) {
        const text = eventLine(b.shard, e, o.logEveryMessage);
        if (text !== null) push(e.ts, text);
      }
      if (b.final) finished.add(b.shard);
      else shardAt.set(b.shard, Math.max(shardAt.get(b.shard) ?? 0, b.at));
    },
    snapshot(s) {
      shardIds = s.shards.map((x) => x.id);
      for (const x of s.shards) if (x.state === 'crashed' || x.state === 'done') finished.add(x.id);
      push(Date.parse(s.at), metricsLine(s));
      flush(watermark());
    },
    end() {
      flush(Infinity);
      return rel ? { runLog: rel } : {};
    },
    async finished() {
      flush(Infinity);
      const s = out;
      out = null;
      if (s) await new Promise<void>((resolve) => s.end(resolve));
    },
  };
}
