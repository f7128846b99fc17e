// One leg of B6: `tblab run --json` (the product as users run it, its shards and source addresses
// planned by itself) against a target, the ramp timed at the target, a window of CPU, RSS and
// received messages after a warm-up, then the stop (SIGTERM, as `tblab stop` does) and its report.
import { machineCpu, cpuSeconds, processTree, rssMB } from './proc.js';
import { liveCleanups, type PhaseTiming } from './phase.js';
import { readRunOutput, tblab, type RunSummary } from './lab-cli.js';
import { ratePerSec, type B6Target } from './b6-targets.js';
import type { RunReport } from '../../src/report/schema.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `tblab run` stopped by a signal ends `aborted` with this exit code (src/common/errors.ts ABORTED). */
const EXIT_ABORTED = 130;
const POLL_MS = 250;
/** After SIGTERM the run drains its acks and, against the emulator, reads every device back over REST (~2,000 devices/s). */
const STOP_TIMEOUT_SEC = 900;

export interface LegWindow {
  seconds: number;
  /** Wall clock of the window, ms since epoch (to pick the run's per-second series points inside it). */
  startMs: number;
  endMs: number;
  messages: number;
  receivedPerSec: number;
  /** CPU over the window, % of one core: the lab's supervisor, each shard, the target's processes summed. */
  supervisorCpuPct: number;
  shardCpuPct: number[];
  targetCpuPct: number;
  /** Target CPU µs per message received; the emulator's front alone (its workers: the rest). */
  targetUsPerMsg: number | null;
  targetFrontUsPerMsg: number | null;
  labUsPerMsg: number | null;
  foreignCpuPct: number;
  /** RSS at the end of the window, MB: supervisor first, then the shards; the target's processes. */
  labRssByProcessMB: number[];
  targetRssMB: number;
  connectedAtEnd: number;
}

export interface LegResult {
  /** Target-side: first client seen to all clients connected, s (POLL_MS resolution). */
  targetRampSeconds: number;
  /** The lab's CPU from its start until all connected, s (start-up and ramp). */
  connectCpuSeconds: number;
  window: LegWindow;
  summary: RunSummary;
  report: RunReport | null;
  /** The lab's `plan:` line (what it planned rather than was told). */
  planLine: string | null;
  exitCode: number | null;
  /** SIGTERM to the end of `tblab run` (acks drained, report and delivery check written), s. */
  stopSeconds: number;
}

const cpuOf = (m: Map<number, number>, pids: number[]) => pids.reduce((n, p) => n + (m.get(p) ?? 0), 0);

export async function runLeg(
  name: string,
  target: B6Target,
  env: Record<string, string>,
  cwd: string,
  devices: number,
  timing: PhaseTiming,
  log: (l: string) => void,
): Promise<LegResult> {
  const lab = tblab(['run', '--json'], { ...env, MQTT_ENDPOINTS: target.endpoints.join(',') }, cwd, `${name}-run.log`);
  const kill = () => {
    for (const pid of processTree(lab.pid).reverse())
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  };
  liveCleanups.add(kill);
  let ended = false;
  void lab.exited.then(() => (ended = true));
  try {
    const t0 = performance.now();
    let first: number | null = null;
    let last = 0;
    for (;;) {
      const c = await target.connected();
      const now = performance.now();
      if (c > 0) first ??= now;
      if (c >= devices) break;
      if (ended) throw new Error(`tblab run ended before all connected: ${(await lab.exited).stderrTail}`);
      if (now - t0 > timing.connectTimeoutSec * 1000)
        throw new Error(`${name}: ${c} of ${devices} connected after ${timing.connectTimeoutSec} s`);
      if (now - last > 10_000) {
        log(`    ${name}: ${c.toLocaleString('en-US')} of ${devices.toLocaleString('en-US')} connected`);
        last = now;
      }
      await sleep(POLL_MS);
    }
    const targetRampSeconds = (performance.now() - (first ?? t0)) / 1000;
    const connectCpuSeconds = [...cpuSeconds(processTree(lab.pid)).values()].reduce((a, b) => a + b, 0);
    log(
      `    ${name}: all ${devices.toLocaleString('en-US')} connected (${targetRampSeconds.toFixed(1)} s at the target); warm-up ${timing.warmupSec} s`,
    );
    await sleep(timing.warmupSec * 1000);
    const window = await measure(lab.pid, target, timing.windowSec);
    log(
      `    ${name}: window ${window.seconds.toFixed(1)} s: ${Math.round(window.receivedPerSec)} msg/s received, supervisor ${window.supervisorCpuPct} % CPU, shards ${window.shardCpuPct.join(' + ')} %, ${target.kind} ${window.targetCpuPct} %; stopping the run`,
    );
    lab.child.kill('SIGTERM');
    const stopped = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), STOP_TIMEOUT_SEC * 1000)));
    // the timer must not outlive the run (it would keep the harness alive for 15 minutes)
    const out = await Promise.race([lab.exited, timeout]).finally(() => clearTimeout(timer));
    if (!out) throw new Error(`${name}: tblab run had not ended ${STOP_TIMEOUT_SEC} s after SIGTERM`);
    const stopSeconds = Math.round(performance.now() - stopped) / 1000;
    log(
      `    ${name}: the run ended ${stopSeconds.toFixed(1)} s after SIGTERM (report${env.DELIVERY_CHECK === '0' ? '' : ', delivery check'})`,
    );
    if (out.code !== EXIT_ABORTED && out.code !== 0) throw new Error(`tblab run exited with ${out.code ?? out.signal}: ${out.stderrTail}`);
    const { summary, report } = readRunOutput(out.stdout);
    return {
      targetRampSeconds,
      connectCpuSeconds,
      window,
      summary,
      report,
      planLine: lab.linesStartingWith('plan: ')[0] ?? null,
      exitCode: out.code,
      stopSeconds,
    };
  } finally {
    if (!ended) kill();
    liveCleanups.delete(kill);
  }
}

async function measure(labPid: number, target: B6Target, windowSec: number): Promise<LegWindow> {
  const lab = processTree(labPid);
  const tgt = target.pids();
  const r0 = await target.received();
  const l0 = cpuSeconds(lab);
  const t0 = cpuSeconds(tgt);
  const m0 = machineCpu();
  const self0 = process.cpuUsage();
  const w0 = performance.now();
  const startMs = Date.now();
  await sleep(windowSec * 1000);
  const endMs = Date.now();
  const l1 = cpuSeconds(lab);
  const t1 = cpuSeconds(tgt);
  const m1 = machineCpu();
  const self = process.cpuUsage(self0);
  const seconds = (performance.now() - w0) / 1000;
  const r1 = await target.received();
  const connectedAtEnd = await target.connected();
  const { messages, perSec } = ratePerSec(r0, r1);
  const labCpu = (pid: number) => (l1.get(pid) ?? 0) - (l0.get(pid) ?? 0);
  const pct = (cpuSec: number) => Math.round((1000 * cpuSec) / seconds) / 10;
  const labTotal = lab.reduce((n, p) => n + labCpu(p), 0);
  const tgtTotal = cpuOf(t1, tgt) - cpuOf(t0, tgt);
  const front = (t1.get(tgt[0]) ?? 0) - (t0.get(tgt[0]) ?? 0);
  const us = (cpuSec: number) => (messages > 0 ? Math.round((cpuSec * 1e8) / messages) / 100 : null);
  const foreign = m1.busy - m0.busy - labTotal - tgtTotal - (self.user + self.system) / 1e6;
  return {
    seconds,
    startMs,
    endMs,
    messages,
    receivedPerSec: perSec,
    supervisorCpuPct: pct(labCpu(lab[0])),
    shardCpuPct: lab.slice(1).map((p) => pct(labCpu(p))),
    targetCpuPct: pct(tgtTotal),
    targetUsPerMsg: us(tgtTotal),
    targetFrontUsPerMsg: target.kind === 'emulator' ? us(front) : null,
    labUsPerMsg: us(labTotal),
    foreignCpuPct: Math.max(0, Math.round((1000 * foreign) / (m1.total - m0.total)) / 10),
    labRssByProcessMB: lab.map((p) => Math.round(rssMB([p]))),
    targetRssMB: Math.round(rssMB(tgt)),
    connectedAtEnd,
  };
}
