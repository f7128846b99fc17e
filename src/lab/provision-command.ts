// The `tblab provision` command: runs provision() and prints its summary, as one line for people on
// stderr or as JSON on stdout. Separate from provision.ts, which run and suite call without printing.
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { provision, type ProvisionOptions } from './provision.js';
import { provisionGateways } from './provision-gateways.js';
import { fleetParts } from './run-fleet.js';

/** `tblab provision`: provisions and prints the summary (JSON on stdout with `json`). */
export async function provisionCommand(ctx: LabContext, cfg: ResolvedConfig, opts: ProvisionOptions & { json: boolean }): Promise<void> {
  const parts = fleetParts(cfg);
  const g = parts.gateways ? await provisionGateways(ctx, cfg) : null;
  if (g && !opts.json) {
    ctx.stderr.write(
      `provisioned ${g.total} gateways "${cfg.devicePrefix}-gNNN": ${g.created} created, ${g.reused} reused` +
        `${g.madeGateway ? ` (${g.madeGateway} made gateways)` : ''}; their children are created by their first connect\n  gateways: ${g.file}\n`,
    );
  }
  if (!parts.devices) {
    if (opts.json) ctx.stdout.write(JSON.stringify({ gateways: g }, null, 2) + '\n');
    return;
  }
  const s = await provision(ctx, cfg, opts);
  if (opts.json) return void ctx.stdout.write(JSON.stringify(g ? { ...s, gateways: g } : s, null, 2) + '\n');
  const r = s.retries;
  const n = r.rateLimited + r.serverError + r.network;
  const retried = n ? `, ${n} retried: ${r.rateLimited} × 429, ${r.serverError} × 5xx, ${r.network} × network` : '';
  ctx.stderr.write(
    `provisioned ${s.total} devices "${s.prefix}" on ${s.server} in ${s.seconds} s: ${s.created} created, ${s.reused} reused` +
      `${s.rotated ? `, ${s.rotated} new tokens` : ''}${s.pruned ? `, ${s.pruned} pruned` : ''}` +
      `${s.updated ? `, ${s.updated} updated to the configuration` : ''}` +
      `${Object.keys(s.drift).length ? `, ${Object.keys(s.drift).length} differ (--no-update)` : ''}` +
      ` (concurrency ${s.concurrency}, ${s.requests} requests${retried})\n  tokens:   ${s.tokenFile}\n  manifest: ${s.manifest}\n`,
  );
}
