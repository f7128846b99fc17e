// The live dashboard of a run (DASHBOARD=1): serves the supervisor's snapshots, accepts an
// authorised stop on POST /api/control/stop (the token file is written 0600), and records its
// URL and token file in the pid file so `tblab stop --via http` finds it.
import type { ResolvedConfig } from '../config/index.js';
import type { RunHandle } from '../engine/supervisor.js';
import type { RunReport } from '../report/schema.js';
import type { HeldPidFile } from './pid-file.js';
import { buildDashboard, createControlToken } from '../dashboard/index.js';

export interface LiveDashboard {
  url: string;
  /** Shows the final report and keeps serving it (`--keep-dashboard`). */
  showFinal(report: RunReport): void;
  /** Shows the final report, then stops listening. Idempotent. */
  close(report?: RunReport): Promise<void>;
}

export async function attachDashboard(run: RunHandle, config: ResolvedConfig, pidFile: HeldPidFile, log: (line: string) => void): Promise<LiveDashboard> {
  const { token, path: tokenFile } = createControlToken(config.dataDir);
  const dash = buildDashboard({
    host: config.metricsHost, port: config.metricsPort, refreshMs: config.metricsRefreshMs,
    runId: run.runId, instance: config.instance ? `${config.instance.index}/${config.instance.count}` : null,
    controlToken: token, onStop: (reason) => run.stop(reason),
  });
  const publish = (s: Parameters<typeof dash.publish>[0]) => dash.publish(s);
  run.on('snapshot', publish);
  let url: string;
  try {
    url = await dash.listen();
  } catch (e) {
    run.off('snapshot', publish);
    throw e;
  }
  pidFile.update({ dashboardUrl: url, controlTokenFile: tokenFile });
  log(`dashboard: ${url}`);
  // the token itself stays in its 0600 file: console output ends up in CI logs and terminals
  const bearer = `"Authorization: Bearer $(cat ${tokenFile})"`;
  log(`control: POST ${url}/api/control/stop with header ${bearer} (token file mode 0600; \`tblab stop\` does this)`);
  let closed = false;
  return {
    url,
    showFinal(report) {
      run.off('snapshot', publish);
      dash.setFinal(report);
    },
    async close(report) {
      if (closed) return;
      closed = true;
      run.off('snapshot', publish);
      dash.setFinal(report);
      await dash.close();
    },
  };
}
