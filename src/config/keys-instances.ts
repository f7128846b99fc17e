// The configuration keys of several lab instances that split one fleet (`--instance i/N`): which
// slice this one takes, the run id they share, and the shared start of a `tblab limit` step ladder.
// Part of the key table (src/config/keys.ts).
import { z } from 'zod';
import type { KeyDef } from './keys.js';
import { optStr, optInt, instance } from './parsers.js';

/**
 * A wall-clock time every instance reads the same: whole Unix seconds (`date +%s`), or ISO 8601
 * with a zone (`2026-12-02T16:30:00Z`, `…+01:00`); a zone-less time would mean a different instant
 * on machines in different zones. → ms since the epoch.
 */
export const startTime = optStr.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const ms = /^\d{9,11}$/.test(v)
    ? Number(v) * 1000
    : /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(v)
      ? Date.parse(v)
      : NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected Unix seconds (date +%s) or an ISO 8601 time with a zone, e.g. 2026-12-02T16:30:00Z',
    });
    return z.NEVER;
  }
  return ms;
});

export const INSTANCE_KEYS = {
  INSTANCE: {
    prop: 'instance',
    schema: instance,
    def: '',
    group: 'Instances',
    doc: "This instance's slice `i/N` of the fleet when several lab instances split one fleet.",
  },
  RUN_ID: {
    prop: 'runId',
    schema: optStr.refine((s) => s === undefined || /^[A-Za-z0-9_.-]{1,100}$/.test(s), 'expected up to 100 letters, digits, _ . -'),
    def: '',
    group: 'Instances',
    doc: 'Run id, new for every run; the instances of one fleet run share it (each adds `-i<i>of<N>`). Empty = UTC time stamp + random suffix.',
  },
  INSTANCE_COUNT: {
    prop: 'instanceCount',
    schema: optInt(1, 10_000),
    def: '',
    group: 'Instances',
    doc: 'Number of instances N when the slice comes from a Kubernetes Indexed Job: instance = JOB_COMPLETION_INDEX (0-based) + 1 of N.',
  },
  LIMIT_START_AT: {
    prop: 'limitStartAt',
    schema: startTime,
    def: '',
    group: 'Instances',
    doc: "`tblab limit --instance i/N`: when the shared step ladder starts, the same on every instance (Unix seconds or ISO 8601 with a zone); with RUN_ID it fixes every step's time window. See limit.md.",
  },
} as const satisfies Record<string, KeyDef>;
