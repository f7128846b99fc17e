// The configuration keys of the workloads a run mixes (issue 16, docs/workloads.md): which ones
// run, and each workload's own keys. A part of the key table (src/config/keys.ts); the workload
// registry itself is src/common/workloads.ts.
import { z } from 'zod';
import type { KeyDef } from './keys.js';
import { int, optHttpUrl, optInt } from './parsers.js';
import { nearest } from '../common/nearest.js';
import { WORKLOAD_NAMES, isWorkloadName, type WorkloadName } from '../common/workloads.js';

/**
 * A list of workload names: a comma list (`device,http`), or an array (a scenario's `workloads`,
 * several `--workload` flags, each of which may be a comma list too). Repeats count once; a name
 * this build does not have is refused with what it does have.
 */
export const workloadList = z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).transform((v, ctx) => {
  const parts = (Array.isArray(v) ? v.map(String) : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const out: WorkloadName[] = [];
  for (const p of parts) {
    if (!isWorkloadName(p)) {
      const near = nearest(p, [...WORKLOAD_NAMES]);
      ctx.addIssue({
        code: 'custom',
        message: `unknown workload ${p}${near ? ` (did you mean ${near}?)` : ''}; expected ${WORKLOAD_NAMES.join(', ')}`,
      });
      return z.NEVER;
    }
    if (!out.includes(p)) out.push(p);
  }
  if (!out.length) {
    ctx.addIssue({ code: 'custom', message: `expected at least one workload of ${WORKLOAD_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return out;
});

export const WORKLOAD_KEYS = {
  WORKLOADS: {
    prop: 'workloads',
    schema: workloadList,
    def: 'device',
    group: 'Workloads',
    doc:
      `What the run does, a comma list mixed in one run: ${WORKLOAD_NAMES.map((n) => `\`${n}\``).join(', ')} ` +
      '(flag `--workload`, repeatable; scenario key `workloads`, a list). See [workloads.md](workloads.md).',
  },
  HTTP_DEVICES: {
    prop: 'httpDevices',
    schema: optInt(1, 10_000_000),
    def: '',
    group: 'Workloads',
    doc:
      'Devices of the fleet that post over HTTP when `http` shares the fleet with MQTT devices (`device`, `rpc`, `attributes`), ' +
      'spread evenly over it; empty = half the fleet. With `http` alone every device posts over HTTP.',
  },
  HTTP_URL: {
    prop: 'httpUrl',
    schema: optHttpUrl,
    def: '',
    group: 'Workloads',
    doc: 'Base URL of the HTTP device API (`POST <url>/api/v1/{token}/telemetry`); empty = TB_URL (a monolith serves both).',
  },
  HTTP_CONNECTIONS: {
    prop: 'httpConnections',
    schema: int(1, 100_000),
    def: '64',
    group: 'Workloads',
    doc: 'Keep-alive connections of the `http` workload, all shards together (each shard gets its share, at least 1).',
  },
} as const satisfies Record<string, KeyDef>;
