// `npm run bench -- [--only B1,B3] [--soak] [--baseline-only] [--cpu-prof]`: runs the scenarios,
// prints the table and writes bench/results/latest.json (shape: bench/README.md, issue 8 Interface).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../src/common/fs.js';
import { SCENARIOS } from './scenarios.js';
import { runScenario, type ScenarioResult } from './lib/bench.js';
import { runB6 } from './lib/b6.js';
import { liveCleanups } from './lib/phase.js';
import { describeMachine } from './lib/machine.js';
import { findMosquitto, INSTALL_HINT } from './lib/mosquitto.js';
import { formatTable } from './lib/table.js';
import { labPayloadBytes } from './lib/payload-size.js';

const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const USAGE =
  'usage: npm run bench -- [--only B1,B3] [--soak] [--baseline-only] [--cpu-prof] [--pin] [--out file.json] [--retries 2] [--max-foreign 25] [--scale 1] [--devices N (B6 only)]';

interface Args {
  only: string[] | null;
  soak: boolean;
  baselineOnly: boolean;
  cpuProf: boolean;
  pin: boolean;
  out: string;
  retries: number;
  maxForeign: number;
  scale: number;
  /** B6's fleet size instead of its 100,000 (a quick validation run). */
  devices: number | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    only: null,
    soak: false,
    baselineOnly: false,
    cpuProf: false,
    pin: false,
    out: join(RESULTS, 'latest.json'),
    retries: 2,
    maxForeign: 25,
    scale: 1,
    devices: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--soak') a.soak = true;
    else if (x === '--baseline-only') a.baselineOnly = true;
    else if (x === '--cpu-prof') a.cpuProf = true;
    else if (x === '--pin') a.pin = true;
    else if (x === '--scale') {
      const v = Number(argv[++i]);
      if (!(v > 0 && v <= 1)) throw new Error(`--scale needs a number in (0, 1], e.g. 0.2\n${USAGE}`);
      a.scale = v;
    } else if (x === '--devices') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 100_000) throw new Error(`--devices needs a whole number in 1..100000, e.g. 5000\n${USAGE}`);
      a.devices = v;
    } else if (x === '--retries' || x === '--max-foreign') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${x} needs a whole number ≥ 0\n${USAGE}`);
      if (x === '--retries') a.retries = v;
      else a.maxForeign = v;
    } else if (x === '--out') {
      if (!argv[i + 1]) throw new Error(`--out needs a file name\n${USAGE}`);
      a.out = resolve(argv[++i]);
    } else if (x === '--only' || x.startsWith('--only=')) {
      const v = x === '--only' ? argv[++i] : x.slice(7);
      if (!v) throw new Error(`--only needs a list like B1,B3\n${USAGE}`);
      a.only = v
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      const unknown = a.only.filter((n) => !SCENARIOS.some((s) => s.name === n));
      if (unknown.length)
        throw new Error(`--only: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    } else if (x === '--help' || x === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${x}\n${USAGE}`);
  }
  return a;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (!findMosquitto()) {
    process.stderr.write(
      `The benchmark needs Debian's mosquitto as its target, and it is not installed.\nInstall it with:\n  ${INSTALL_HINT}\n`,
    );
    return 6;
  }
  const chosen = SCENARIOS.filter((s) => (args.only ? args.only.includes(s.name) : !s.optIn || (s.optIn === 'soak' && args.soak)));
  const machine = describeMachine();
  if (args.pin && machine.cores < 2) {
    process.stderr.write(`--pin needs 2 cores (generator on CPU 0, mosquitto on CPU 1); this machine has ${machine.cores}\n${USAGE}\n`);
    return 2;
  }
  const log = (l: string) => process.stderr.write(`${l}\n`);
  log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGB} GB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.mosquitto}; load average ${machine.loadAvgStart.join(' ')}`,
  );
  const workDir = mkdtempSync(join(tmpdir(), 'tblab-bench-'));
  const profDir = join(RESULTS, 'profiles');
  if (args.cpuProf) mkdirSync(profDir, { recursive: true });
  const payloadBytes = labPayloadBytes();
  const scenarios: ScenarioResult[] = [];
  let failed = false;
  try {
    for (const s of chosen) {
      try {
        if (s.driver === 'tblab') {
          scenarios.push(await runB6(s, { workDir, log, ...(args.devices ? { devices: args.devices } : {}) }));
          continue;
        }
        scenarios.push(
          await runScenario(s, {
            lab: !args.baselineOnly,
            payloadBytes,
            workDir,
            log,
            retries: args.retries,
            maxForeignPct: args.maxForeign,
            rateScale: args.scale,
            pin: args.pin,
            labExecArgv: args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
          }),
        );
      } catch (e) {
        failed = true;
        log(`${s.name} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  // G1's goal is relative: a child message may cost at most what B1's device message costs, same run
  const b1 = scenarios.find((r) => r.name === 'B1');
  const g1 = scenarios.find((r) => r.name === 'G1');
  if (g1 && b1?.usPerMsg && g1.usPerChildMsg !== null && args.scale === 1) g1.pass = g1.usPerChildMsg <= b1.usPerMsg;
  machine.loadAvgEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const out = { machine: { ...machine, payloadBytes, rateScale: args.scale, pinned: args.pin }, scenarios };
  mkdirSync(dirname(args.out), { recursive: true });
  writeJsonAtomic(args.out, out);
  process.stdout.write(`${formatTable(scenarios)}\n`);
  log(`load average at the end ${machine.loadAvgEnd.join(' ')}; JSON: ${args.out}${args.cpuProf ? `; CPU profiles: ${profDir}` : ''}`);
  return failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const kill of liveCleanups) kill();
    process.stderr.write(`\nstopped by ${sig}\n`);
    process.exit(130);
  });
}

process.exitCode = await main();
