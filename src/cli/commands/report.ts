import { Option, type Command } from 'commander';
import type { LabContext } from '../../lab/context.js';
import { withConfigOptions, resolveConfig } from '../common.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `tblab report [run]`: the summary of a run (default latest); `--threshold` re-judges it. */
export function registerReport(program: Command, ctx: LabContext, setExit: (code: number) => void): void {
  withConfigOptions(
    program
      .command('report')
      .description('summary of a run: global metrics, devices with errors, stalled or late devices, the first 20 devices')
      .argument('[run]', 'run id, `latest`, or the path of a report file', 'latest')
      .option('--json', 'print the summary as JSON on stdout')
      .option('--serve', "after the summary, serve the run's dashboard on METRICS_HOST:METRICS_PORT until Ctrl+C")
      .addOption(
        new Option(
          '--threshold <expr>',
          'evaluate this threshold against the report (repeatable; exit 5 when one fails), e.g. ack_p99<200ms',
        )
          .argParser(collect)
          .default([]),
      ),
  ).action(async (run: string, opts: Record<string, unknown>) => {
    const { config } = resolveConfig(ctx, opts);
    const { reportRun } = await import('../../lab/report.js');
    setExit(reportRun(ctx, { dataDir: config.dataDir, ref: run, json: Boolean(opts.json), thresholds: opts.threshold as string[] }));
    if (opts.serve) {
      const { serveRun } = await import('../../lab/report.js');
      await serveRun(ctx, { dataDir: config.dataDir, ref: run, host: config.metricsHost, port: config.metricsPort });
    }
  });
}
