// Progress of a long fan-out on stderr: a cli-progress bar (done/total, rate, ETA) on a terminal,
// a plain line every few seconds otherwise (CI logs, pipes).
import { SingleBar } from 'cli-progress';
import type { RunSink } from './pipeline/sink.js';
import { connectFailureHint, dominantConnectFailure, NO_ANSWER } from '../report/outcome.js';
import { roundTripLines } from '../metrics/workload-stats-rpc.js';

/** Seconds without any CONNACK before the console says so. */
const NO_ANSWER_AFTER_SEC = 2;

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  total: number;
  /** What is counted, e.g. `devices`. */
  unit: string;
  /** Line prefix, e.g. `provision`. */
  label: string;
  /** Seconds between plain lines when the stream is not a terminal (default 2). */
  plainEverySec?: number;
}

export function startProgress(o: ProgressOptions): Progress {
  const started = Date.now();
  let done = 0;
  const rate = () => done / Math.max(0.001, (Date.now() - started) / 1000);
  const eta = () => {
    const r = rate();
    return r > 0 ? Math.ceil((o.total - done) / r) : 0;
  };
  if ((o.stream as { isTTY?: boolean }).isTTY) {
    const bar = new SingleBar({
      stream: o.stream as NodeJS.WriteStream,
      format: `${o.label} {bar} {value}/{total} ${o.unit} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    });
    bar.start(o.total, 0, { rate: '0' });
    return {
      tick(n = 1) {
        done += n;
        bar.update(done, { rate: rate().toFixed(0) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const line = () => o.stream.write(`${o.label}: ${done}/${o.total} ${o.unit}, ${rate().toFixed(0)}/s, ETA ${eta()} s\n`);
  const timer = setInterval(line, (o.plainEverySec ?? 2) * 1000);
  timer.unref();
  return {
    tick(n = 1) {
      done += n;
    },
    stop() {
      clearInterval(timer);
      line();
    },
  };
}

/**
 * Console progress of a run, a sink: one line on stderr every 5 s (no report section). While no
 * device has connected, the connect failure and what to check are said as soon as they are known.
 */
export function consoleProgress(say: (line: string) => void, everyMs = 5000, now: () => number = Date.now): RunSink {
  let last = 0;
  let toldCause: string | null = null;
  return {
    name: 'console progress',
    snapshot(s) {
      const c = s.connections;
      // a failure is said at once; attempts that get no answer at all after a few seconds too
      const top =
        c.succeeded === 0
          ? (dominantConnectFailure(c.byOutcome) ??
            (c.attempts > 0 && s.elapsedSec >= NO_ANSWER_AFTER_SEC ? { cause: NO_ANSWER, count: c.attempts } : null))
          : null;
      if (top && top.cause !== toldCause) {
        toldCause = top.cause;
        say(
          `no device connected yet: ${top.cause} (${top.count} of ${c.attempts} attempts)\n  hint: ${connectFailureHint(top.cause, s.target)}`,
        );
      }
      if (now() - last < everyMs || s.state === 'finished') return;
      last = now();
      const { traffic: t, latency: l } = s;
      say(
        `${s.elapsedSec.toFixed(0)}s ${s.state}: connected ${c.connected}/${c.configured}, sent ${t.sent} (${t.sentPerSec}/s), ` +
          `acked ${t.acked}, failed ${t.failed}, ack p99 ${l.ackMs.p99 ?? '-'} ms, lag p99 ${l.scheduleLagMs.p99 ?? '-'} ms` +
          (top ? `, connect failing: ${top.cause} ×${top.count}` : ''),
      );
      for (const line of roundTripLines(s.workloads)) say(`  ${line}`);
    },
  };
}
