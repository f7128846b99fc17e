// `tblab report merge`: finds the instance reports (files, run ids or a folder), merges them
// (src/report/merge.ts) and writes the result like any run: data/runs/<run-id>.json and latest.json.
// The limit reports of a split search (`tblab limit --instance`) go to limit/merge-command.ts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunReport } from '../report/schema.js';
import { mergeReports, type MergeInput } from '../report/merge.js';
import { readReportAt, runsDir } from '../report/read.js';
import { parseInstance, fleetRunId } from '../common/fleet.js';
import { writeJsonAtomic } from '../common/fs.js';
import { LabError } from '../common/errors.js';
import type { LabContext } from './context.js';
import { say } from './context.js';
import { findLimitInputs, isLimitStepRunId, limitMergeCommand } from './limit/merge-command.js';

export interface ReportMergeOptions {
  /** Report files, run ids (looked up in <dataDir>/runs) or folders; empty = <dataDir>/runs. */
  inputs: readonly string[];
  dataDir: string;
  /** Run id of the merged report (default derived from the instance run ids). */
  runId?: string;
  /** Merge even when instances are missing. */
  allowPartial?: boolean;
}

export interface ReportMergeResult {
  report: RunReport;
  /** Where the merged report was written. */
  path: string;
  sources: string[];
  warnings: string[];
}

/** Reads and checks one instance report. */
export function readReportFile(path: string): RunReport {
  if (!existsSync(path)) throw new LabError('RUN_NOT_FOUND', { message: `No report at ${path}` });
  return readReportAt(path);
}

const slack = 60_000;
const span = (r: RunReport) => {
  const start = Date.parse(r.startedAt);
  return { start, end: r.endedAt ? Date.parse(r.endedAt) : start + r.durationSec * 1000 };
};

/**
 * The instance reports of one run from a folder: the newest instance report picks the run. Reports
 * sharing its RUN_ID (`<RUN_ID>-i<i>of<N>`) belong to it; without a shared RUN_ID, every instance
 * report of the same N whose run overlaps its time span does. Instances run side by side, so
 * successive runs never overlap; two reports for one slot do.
 */
export function selectRunFromFolder(found: readonly MergeInput[], dir: string): MergeInput[] {
  const candidates = found.filter((f) => f.report.instance && !f.report.mergedFrom && parseInstance(f.report.instance));
  if (candidates.length === 0) {
    throw new LabError('RUN_NOT_FOUND', {
      message: `No instance reports (runs made with --instance i/N) in ${dir}`,
      hint: 'Run `tblab run --instance i/N` on each instance first, or name the report files.',
    });
  }
  const newest = candidates.reduce((a, b) => (span(b.report).start > span(a.report).start ? b : a));
  const count = parseInstance(newest.report.instance!)!.count;
  const anchor = span(newest.report);
  const fleet = fleetRunId(newest.report.runId);
  const sameCount = candidates.filter((c) => parseInstance(c.report.instance!)!.count === count);
  const sameFleet = sameCount.filter((c) => fleetRunId(c.report.runId) === fleet);
  const group =
    sameFleet.length > 1
      ? sameFleet
      : sameCount.filter((c) => {
          const s = span(c.report);
          return s.start <= anchor.end + slack && s.end >= anchor.start - slack;
        });
  const bySlot = new Map<string, MergeInput[]>();
  for (const g of group) bySlot.set(g.report.instance!, [...(bySlot.get(g.report.instance!) ?? []), g]);
  for (const [slot, list] of bySlot) {
    if (list.length > 1) {
      throw new LabError('MERGE_CONFLICT', {
        message: `${dir} holds ${list.length} overlapping reports for instance ${slot}: ${list.map((l) => l.source).join(', ')}; name the files to merge`,
      });
    }
  }
  return group;
}

function loadInputs(opts: ReportMergeOptions, cwd: string): MergeInput[] {
  const args = opts.inputs.length ? opts.inputs : [runsDir(opts.dataDir)];
  const out: MergeInput[] = [];
  for (const arg of args) {
    const p = resolve(cwd, arg);
    if (existsSync(p) && statSync(p).isDirectory()) {
      const found: MergeInput[] = [];
      for (const name of readdirSync(p).sort()) {
        if (!name.endsWith('.json') || name.startsWith('.') || name === 'latest.json') continue;
        try {
          const report = readReportFile(join(p, name));
          // the steps of a split limit search merge through their limit reports (limit/merge-command.ts)
          if (!isLimitStepRunId(report.runId)) found.push({ source: join(p, name), report });
        } catch {
          // a folder may hold other JSON files: only reports count
        }
      }
      out.push(...selectRunFromFolder(found, p));
    } else {
      const byId = join(runsDir(opts.dataDir), `${arg}.json`);
      const file = existsSync(p) || !/^[\w.-]+$/.test(arg) || !existsSync(byId) ? p : byId;
      out.push({ source: file, report: readReportFile(file) });
    }
  }
  return out;
}

export function runReportMerge(ctx: LabContext, opts: ReportMergeOptions): ReportMergeResult {
  const inputs = loadInputs(opts, ctx.cwd);
  const { report, warnings } = mergeReports(inputs, { runId: opts.runId, allowPartial: opts.allowPartial });
  const dir = runsDir(opts.dataDir);
  const path = join(dir, `${report.runId}.json`);
  writeJsonAtomic(path, report);
  writeJsonAtomic(join(dir, 'latest.json'), report);
  return { report, path, sources: inputs.map((i) => i.source), warnings };
}

/** `tblab report merge`: merges, writes, and prints what was merged (the merged report as JSON on stdout with `json`). */
export function reportMergeCommand(ctx: LabContext, opts: ReportMergeOptions & { json: boolean }): void {
  const limits = findLimitInputs(opts.inputs, opts.dataDir, ctx.cwd);
  if (limits) return limitMergeCommand(ctx, limits, { dataDir: opts.dataDir, allowPartial: Boolean(opts.allowPartial), json: opts.json });
  const r = runReportMerge(ctx, opts);
  for (const w of r.warnings) say(ctx, `warning: ${w}`);
  const m = r.report.metrics;
  const ack = m.latency.ackMs;
  say(ctx, `merged ${r.sources.length} instance reports (${r.report.mergedFrom?.join(', ')})`);
  say(
    ctx,
    `  devices ${Object.keys(r.report.devices).length}, sent ${m.traffic.sent}, acked ${m.traffic.acked}, failed ${m.traffic.failed}, ` +
      `ack p50/p99 ${ack.p50 ?? '—'}/${ack.p99 ?? '—'} ms, outcome ${r.report.outcome}`,
  );
  say(ctx, `  written to ${r.path} (and latest.json)`);
  if (opts.json) ctx.stdout.write(JSON.stringify(r.report) + '\n');
}
