// Engine test fixtures: a resolved config in a temp DATA_DIR (no .env, no process environment),
// a fleet of devices, a run that is stopped when the test ends, and a wait-until helper for snapshots.
import { loadConfigOrThrow, type RawValues, type ResolvedConfig } from '../../src/config/index.js';
import { deviceName, type FleetDevice } from '../../src/common/fleet.js';
import { startRun as startPipelineRun, type RunHandle, type RunOptions } from '../../src/lab/pipeline/start.js';
import type { MetricsSnapshot } from '../../src/metrics/snapshot.js';
import { createDevice, restLogin } from './emulator.js';
import { cleanup, type Scope } from './cleanup.js';
import { tmpDir } from './tmp.js';

/** `DATA_DIR` defaults to a temp folder removed when `t` ends. */
export function testConfig(t: Scope, flags: RawValues, dataDir = tmpDir(t, 'tblab-engine-')): ResolvedConfig {
  return loadConfigOrThrow({
    cwd: dataDir,
    env: {},
    envFile: false,
    flags: { DATA_DIR: dataDir, MQTT_HOST: '127.0.0.1', SHARDS: 2, ...flags },
  }).config;
}

export function testFleet(n: number, token: (i: number) => string = (i) => `token-${i}`): FleetDevice[] {
  return Array.from({ length: n }, (_, k) => ({
    name: deviceName('sim', k + 1),
    index: k + 1,
    id: `id-${k + 1}`,
    credentials: { type: 'ACCESS_TOKEN' as const, token: token(k + 1) },
  }));
}

/**
 * Starts a run (src/lab/pipeline/start.ts) that is stopped when `t` ends, unless it has finished:
 * the test end waits for its report, so its shard processes are gone before its folders are removed.
 */
export function startRun(t: Scope, opts: RunOptions): RunHandle {
  const run = startPipelineRun(opts);
  let settled = false;
  const done = run.done
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => (settled = true));
  cleanup(t, async () => {
    if (!settled) run.stop('test end');
    await done;
  });
  return run;
}

/** Resolves with the first snapshot that satisfies `pred` (rejects after `timeoutMs`). */
export function waitForSnapshot(run: RunHandle, pred: (s: MetricsSnapshot) => boolean, timeoutMs = 60_000): Promise<MetricsSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      run.off('snapshot', fn);
      reject(new Error(`no matching snapshot within ${timeoutMs} ms`));
    }, timeoutMs);
    const fn = (s: MetricsSnapshot) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      run.off('snapshot', fn);
      resolve(s);
    };
    run.on('snapshot', fn);
  });
}

/** `n` devices `sim-NNN` created in an emulator over REST, each with its own access token. */
export async function emulatorFleet(restUrl: string, n: number): Promise<FleetDevice[]> {
  const { token } = await restLogin(restUrl);
  const fleet = testFleet(n, (i) => `tok-${i}-${Math.random().toString(36).slice(2)}`);
  for (const d of fleet) d.id = await createDevice(restUrl, token, d.name, (d.credentials as { token: string }).token);
  return fleet;
}
