// The live dashboard of a run (DASHBOARD=1), a sink: serves the composed snapshots (the page, the
// SSE stream and Prometheus' /metrics), accepts an authorised stop on POST /api/control/stop (the
// token file is written 0600), and records its URL and token file in the pid file so
// `tblab stop --via http` finds it. It returns no report section.
import type { ResolvedConfig } from '../config/index.js';
import type { HeldPidFile } from './pid-file.js';
import type { RunSink } from './pipeline/sink.js';
import { buildDashboard, createControlToken, exposureWarning, type Dashboard } from '../dashboard/index.js';

export interface LiveDashboard extends RunSink {
  /** Base URL once listening. */
  readonly url: string | null;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

export function liveDashboard(config: ResolvedConfig, pidFile: HeldPidFile, log: (line: string) => void): LiveDashboard {
  let dash: Dashboard | null = null;
  let ended = false;
  let closed = false;
  return {
    name: 'dashboard',
    get url() {
      return dash?.url ?? null;
    },
    async start(run) {
      const { token, path: tokenFile } = createControlToken(config.dataDir);
      const d = buildDashboard({
        host: config.metricsHost,
        port: config.metricsPort,
        refreshMs: config.metricsRefreshMs,
        runId: run.runId,
        instance: config.instance ? `${config.instance.index}/${config.instance.count}` : null,
        controlToken: token,
        onStop: (reason) => run.stop(reason),
      });
      const url = await d.listen();
      dash = d;
      const latest = run.latest();
      if (latest) d.publish(latest);
      pidFile.update({ dashboardUrl: url, controlTokenFile: tokenFile });
      log(`dashboard: ${url}`);
      const exposed = exposureWarning(config.metricsHost);
      if (exposed) log(exposed);
      // the token itself stays in its 0600 file: console output ends up in CI logs and terminals
      const bearer = `"Authorization: Bearer $(cat ${tokenFile})"`;
      log(`control: POST ${url}/api/control/stop with header ${bearer} (token file mode 0600; \`tblab stop\` does this)`);
    },
    snapshot(s) {
      if (!ended) dash?.publish(s);
    },
    finished(report) {
      // the page keeps showing the final report (also with --keep-dashboard, until close)
      ended = true;
      dash?.setFinal(report);
    },
    async close() {
      if (closed) return;
      closed = true;
      await dash?.close();
    },
  };
}
