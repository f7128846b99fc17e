// Which slice of the fleet this lab instance takes: `--instance i/N` / INSTANCE, or the index a
// Kubernetes Indexed Job gives each pod (JOB_COMPLETION_INDEX, 0-based) with INSTANCE_COUNT = N.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import { instanceLabel, instanceSuffix, type InstanceId } from '../common/fleet.js';
import { LabError } from '../common/errors.js';
import { makeRunId } from '../engine/run-files.js';

export interface ResolvedInstance extends InstanceId {
  /** `i/N`, as reports, file names and metrics labels carry it. */
  label: string;
  /** Where the identity came from (shown at start, so a wrong wiring is visible). */
  source: 'INSTANCE' | 'JOB_COMPLETION_INDEX';
}

/** Set by Kubernetes in every pod of an Indexed Job (completionMode: Indexed). */
export const JOB_INDEX_ENV = 'JOB_COMPLETION_INDEX';

const invalid = (message: string): never => {
  throw new LabError('CONFIG_INVALID', {
    message,
    hint: "Set --instance i/N (or INSTANCE), or in a Kubernetes Indexed Job INSTANCE_COUNT equal to the Job's completions.",
  });
};

const make = (id: InstanceId, source: ResolvedInstance['source']): ResolvedInstance => ({ ...id, label: instanceLabel(id), source });

/**
 * The instance identity, or null for a lab that runs the whole fleet. Contradictions are errors,
 * never guesses: a pod that silently took another pod's slice would load some devices twice.
 */
export function resolveInstance(
  config: Pick<ResolvedConfig, 'instance' | 'instanceCount'>,
  env: NodeJS.ProcessEnv,
): ResolvedInstance | null {
  const explicit = config.instance;
  const count = config.instanceCount;
  if (explicit && count !== undefined && explicit.count !== count) {
    invalid(`INSTANCE=${instanceLabel(explicit)} disagrees with INSTANCE_COUNT=${count}`);
  }
  const raw = env[JOB_INDEX_ENV]?.trim();
  if (raw) {
    if (!/^\d+$/.test(raw))
      invalid(`${JOB_INDEX_ENV}=${JSON.stringify(raw)}: expected a 0-based whole number (set by a Kubernetes Indexed Job)`);
    const n = count ?? explicit?.count;
    if (n === undefined) {
      return invalid(
        `${JOB_INDEX_ENV}=${raw} is set (Kubernetes Indexed Job) but INSTANCE_COUNT is not: set INSTANCE_COUNT to the Job's completions`,
      );
    }
    const index = Number(raw) + 1;
    if (index > n)
      invalid(`${JOB_INDEX_ENV}=${raw} is outside 0..${n - 1} for INSTANCE_COUNT=${n}: completions and INSTANCE_COUNT must be equal`);
    if (explicit && explicit.index !== index) {
      invalid(`INSTANCE=${instanceLabel(explicit)} disagrees with ${JOB_INDEX_ENV}=${raw} (instance ${index}/${n}); unset one of them`);
    }
    return make({ index, count: n }, 'JOB_COMPLETION_INDEX');
  }
  if (explicit) return make(explicit, 'INSTANCE');
  if (count !== undefined) {
    invalid(`INSTANCE_COUNT=${count} is set but neither INSTANCE nor ${JOB_INDEX_ENV} says which instance this is`);
  }
  return null;
}

/** The config with `instance` resolved from every source (what `tblab run` slices by), announced once. */
export function withInstance(config: ResolvedConfig, env: NodeJS.ProcessEnv, say: (line: string) => void): ResolvedConfig {
  const inst = resolveInstance(config, env);
  if (!inst) return config;
  say(
    `instance ${inst.label} (from ${inst.source === 'INSTANCE' ? '--instance / INSTANCE' : `${JOB_INDEX_ENV}=${env[JOB_INDEX_ENV]?.trim()} and INSTANCE_COUNT`})`,
  );
  return Object.freeze({ ...config, instance: { index: inst.index, count: inst.count } });
}

/**
 * This run's id: RUN_ID (+ `-i<i>of<N>` for an instance), so that instances started apart share
 * one fleet run id; without RUN_ID a fresh time-stamped id. A RUN_ID that already has a report is
 * refused: reusing it would overwrite that run.
 */
export function runIdFor(config: Pick<ResolvedConfig, 'runId' | 'instance' | 'dataDir'>, now = new Date()): string {
  if (!config.runId) return makeRunId(now, config.instance ?? null);
  const id = config.runId + instanceSuffix(config.instance);
  const existing = join(config.dataDir, 'runs', `${id}.json`);
  if (existsSync(existing)) {
    throw new LabError('CONFIG_INVALID', {
      message: `RUN_ID=${config.runId}: ${existing} exists already`,
      hint: 'Give every run a new RUN_ID (or leave it empty for a time-stamped one).',
    });
  }
  return id;
}
