// `tblab delete`: remove the fleet by manifest (devices.csv) or by --prefix (tenant-wide listing),
// mirror each deletion to the parent server when TB_PARENT_URL is set (404 there = already done:
// DELETE /api/device/{id} in application/src/main/java/org/thingsboard/server/controller/DeviceController.java),
// then rewrite the manifest and tokens.json to what is left.
import type { ResolvedConfig } from '../config/index.js';
import { LabError, describeError } from '../common/errors.js';
import { clientFromConfig, parentClientFromConfig, type TbClient } from '../thingsboard/client.js';
import { deleteDevice } from '../thingsboard/devices.js';
import { readManifest, writeManifest, readTokenFile, writeTokenFile, manifestPath } from './fleet-file.js';
import { listFleetOnServer, compareNames } from './fleet-server.js';
import { runPool } from './pool.js';
import { startProgress } from './progress.js';
import type { LabContext } from './context.js';
import { redactUrl } from '../common/redact.js';
import { forgetGateways, gatewayTargets } from './gateway-delete.js';
import { readGatewayFile } from './gateway-fleet.js';

export interface DeleteOptions {
  /** Delete every `<prefix>-N` device of the tenant instead of the manifest's. */
  prefix?: string;
  /** Required to delete (otherwise CONFIRMATION_REQUIRED). */
  yes?: boolean;
  /** List what would be deleted; delete nothing. */
  dryRun?: boolean;
  progress?: boolean;
}

export interface DeleteSummary {
  source: 'manifest' | 'prefix';
  server: string;
  dryRun: boolean;
  /** The devices selected (in a dry run: what would be deleted). */
  devices: { name: string; id: string }[];
  deleted: number;
  /** Already gone (404) on the server. */
  alreadyGone: number;
  parent: { server: string; deleted: number; alreadyGone: number } | null;
  /** Rows left in devices.csv. */
  remaining: number;
  seconds: number;
}

export async function deleteFleet(ctx: LabContext, cfg: ResolvedConfig, opts: DeleteOptions): Promise<DeleteSummary> {
  const t0 = Date.now();
  const client = clientFromConfig(cfg);
  const parent = parentClientFromConfig(cfg);
  try {
    const rows = readManifest(cfg.dataDir);
    let targets: { name: string; id: string }[];
    if (opts.prefix) {
      targets = [...(await listFleetOnServer(client, opts.prefix)).values()].map((d) => ({ name: d.name, id: d.id.id }));
    } else {
      if (rows.length === 0 && !readGatewayFile(cfg.dataDir))
        throw new LabError('NO_FLEET', {
          message: `Nothing to delete: ${manifestPath(cfg.dataDir)} is missing or empty`,
          hint: 'Use --prefix <prefix> to delete by name on the server.',
        });
      targets = rows.map((r) => ({ name: r.name, id: r.id }));
    }
    targets.push(...(await gatewayTargets(client, cfg.dataDir, opts.prefix ?? null)));
    targets.sort((a, b) => compareNames(a.name, b.name));
    // both logins before anything is deleted: a wrong parent password must not leave the edge
    // deleted and the parent full (the listing above already logged in to the edge)
    await client.login();
    if (parent)
      await parent.login().catch((e: unknown) => {
        throw parentError(cfg, e, 'nothing was deleted');
      });
    const summary: DeleteSummary = {
      source: opts.prefix ? 'prefix' : 'manifest',
      server: redactUrl(cfg.tbUrl),
      dryRun: Boolean(opts.dryRun),
      devices: targets,
      deleted: 0,
      alreadyGone: 0,
      parent: parent ? { server: redactUrl(cfg.tbParentUrl!), deleted: 0, alreadyGone: 0 } : null,
      remaining: rows.length,
      seconds: 0,
    };
    if (opts.dryRun || targets.length === 0) return summary;
    if (!opts.yes) {
      const range = targets.length > 1 ? `${targets[0].name} … ${targets[targets.length - 1].name}` : targets[0].name;
      const also = parent ? ` and on the parent server ${redactUrl(cfg.tbParentUrl)}` : '';
      const message = `This deletes ${targets.length} device(s) (${range}) on ${redactUrl(cfg.tbUrl)}${also}`;
      throw new LabError('CONFIRMATION_REQUIRED', { message });
    }

    const gone = new Set<string>();
    const bar =
      opts.progress === false ? null : startProgress({ stream: ctx.stderr, total: targets.length, unit: 'devices', label: 'delete' });
    const one = async (c: TbClient, id: string, into: { deleted: number; alreadyGone: number }) => {
      if (await deleteDevice(c, id)) into.deleted++;
      else into.alreadyGone++;
    };
    let parentFailed = false;
    let failure: unknown = null;
    try {
      await runPool(targets.length, cfg.provisionConcurrency, async (i) => {
        const t = targets[i];
        await one(client, t.id, summary);
        if (parent)
          await one(parent, t.id, summary.parent!).catch((e: unknown) => {
            parentFailed = true;
            throw e;
          });
        gone.add(t.name);
        bar?.tick();
      });
    } catch (e) {
      failure = e;
    } finally {
      bar?.stop();
      const left = rows.filter((r) => !gone.has(r.name));
      if (left.length !== rows.length) writeManifest(cfg.dataDir, left);
      summary.remaining = left.length;
      const tf = readTokenFile(cfg.dataDir);
      if (tf && Object.keys(tf.devices).some((n) => gone.has(n))) {
        for (const n of gone) delete tf.devices[n];
        writeTokenFile(cfg.dataDir, { ...tf, updatedAt: new Date().toISOString() });
      }
      forgetGateways(cfg.dataDir, gone);
    }
    if (failure) throw partialFailure(cfg, summary, failure, parentFailed);
    summary.seconds = Number(((Date.now() - t0) / 1000).toFixed(2));
    return summary;
  } finally {
    await Promise.all([client.close(), parent?.close()]);
  }
}

/** `tblab delete`: deletes (or lists with `dryRun`) and prints the summary (JSON on stdout with `json`). */
export async function deleteCommand(ctx: LabContext, cfg: ResolvedConfig, opts: DeleteOptions & { json: boolean }): Promise<void> {
  const s = await deleteFleet(ctx, cfg, opts);
  if (opts.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
  if (s.dryRun) {
    for (const d of s.devices) ctx.stderr.write(`would delete ${d.name} (${d.id})\n`);
    const parent = s.parent ? ` and ${s.parent.server}` : '';
    ctx.stderr.write(`dry run: ${s.devices.length} device(s) would be deleted on ${s.server}${parent}; nothing was deleted\n`);
    return;
  }
  const p = s.parent ? `; parent ${s.parent.server}: ${s.parent.deleted} deleted, ${s.parent.alreadyGone} already gone` : '';
  ctx.stderr.write(
    `deleted ${s.deleted} device(s) on ${s.server} (${s.alreadyGone} already gone)${p} in ${s.seconds} s; ` +
      `${s.remaining} left in devices.csv\n`,
  );
}

const PARENT_HINT = 'Check TB_PARENT_URL and TB_PARENT_USERNAME / TB_PARENT_PASSWORD (they default to TB_USERNAME / TB_PASSWORD)';

/** A parent-server failure as a LabError whose hint names the TB_PARENT_* keys. */
function parentError(cfg: ResolvedConfig, e: unknown, what: string): LabError {
  const code = e instanceof LabError ? e.code : 'INTERNAL';
  const message = `parent server ${redactUrl(cfg.tbParentUrl)}: ${describeError(e)}; ${what}`;
  return new LabError(code, { message, hint: `${PARENT_HINT}.`, cause: e });
}

/** A deletion that stopped part-way: the real counts on each server and what devices.csv still lists. */
function partialFailure(cfg: ResolvedConfig, s: DeleteSummary, e: unknown, parentFailed: boolean): LabError {
  const edge = `${s.deleted} deleted on ${s.parent ? 'edge ' : ''}${redactUrl(cfg.tbUrl)} (${s.alreadyGone} already gone)`;
  const done = s.parent ? `${edge}, ${s.parent.deleted} on the parent (${s.parent.alreadyGone} already gone)` : edge;
  const left = `${s.remaining} left in devices.csv`;
  const details = { deleted: s.deleted, alreadyGone: s.alreadyGone, parent: s.parent, remaining: s.remaining };
  const code = e instanceof LabError ? e.code : 'INTERNAL';
  if (parentFailed) {
    return new LabError(code, {
      message: `${done}; parent failed: ${describeError(e)}; ${left}`,
      hint:
        `${PARENT_HINT}, then re-run \`tblab delete --yes\`: devices gone on the edge count as already gone there, ` +
        "and the parent's are deleted.",
      cause: e,
      details,
    });
  }
  const hint = e instanceof LabError ? e.hint : 'Re-run `tblab delete --yes` to finish.';
  return new LabError(code, { message: `${done}; then failed: ${describeError(e)}; ${left}`, hint, cause: e, details });
}
