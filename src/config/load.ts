// Layered configuration: defaults < .env file < process environment < scenario file < flags.
// Every layer is a map of key → raw value; one schema parses the merged result and reports every
// problem at once, each naming the key, the value (secrets masked), where it came from and the form expected.
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join, isAbsolute } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { KEYS, SECRET_KEYS, ORIGINAL_KEY_ALIASES, ORIGINAL_ONLY_KEYS, type ConfigKey, type ResolvedConfig } from './keys.js';
import { LabError } from '../common/errors.js';
import { stagesFromList } from '../common/stages.js';
import { nearest } from '../common/nearest.js';
import { redactHost, redactUrl } from '../common/redact.js';
import { hasDeviceRows, type WorkloadName } from '../common/workloads.js';

export type Layer = 'default' | 'envFile' | 'env' | 'scenario' | 'flag';
export type RawValues = Partial<Record<ConfigKey, string | number | boolean>>;

export interface ConfigSources {
  /** Working directory: relative paths (DATA_DIR, files) resolve against it. Default process.cwd(). */
  cwd?: string;
  /** The environment (default process.env). Only known keys are read. */
  env?: NodeJS.ProcessEnv;
  /** Path of the .env file; default <cwd>/.env when it exists. `false` = do not read one. */
  envFile?: string | false;
  /** Scenario JSON file: an object of KEY → value (keys as in .env). */
  scenarioFile?: string;
  /** Command-line flags already mapped to keys. */
  flags?: RawValues;
}

export interface ConfigProblem {
  key: string;
  value: string;
  from: Layer;
  expected: string;
}

export type ConfigResult =
  | { ok: true; config: ResolvedConfig; warnings: string[]; origin: Record<ConfigKey, Layer> }
  | { ok: false; problems: ConfigProblem[]; warnings: string[] };

const isKey = (k: string): k is ConfigKey => Object.prototype.hasOwnProperty.call(KEYS, k);

function mask(key: string, v: unknown): string {
  if ((SECRET_KEYS as readonly string[]).includes(key)) return '***';
  if (key === 'MQTT_ENDPOINTS') return String(v).split(',').map(redactHost).join(',');
  return key === 'MQTT_HOST' ? redactHost(String(v)) : redactUrl(String(v));
}

/** Reads every layer and parses the result; never throws for bad values (see `loadConfigOrThrow`). */
export function loadConfig(src: ConfigSources = {}): ConfigResult {
  const cwd = src.cwd ?? process.cwd();
  const env = src.env ?? process.env;
  const warnings: string[] = [];
  const problems: ConfigProblem[] = [];
  const raw = {} as Record<ConfigKey, unknown>;
  const origin = {} as Record<ConfigKey, Layer>;

  for (const k of Object.keys(KEYS) as ConfigKey[]) {
    raw[k] = KEYS[k].def ?? '';
    origin[k] = 'default';
  }
  const apply = (values: Record<string, unknown>, layer: Layer, strict: boolean) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      const alias = isKey(k) ? undefined : ORIGINAL_KEY_ALIASES[k];
      if (alias) {
        // the Python lab's spelling; ours wins when both are in the same layer
        if (values[alias] === undefined) [raw[alias], origin[alias]] = [v, layer];
        continue;
      }
      const instead = isKey(k) ? undefined : ORIGINAL_ONLY_KEYS[k];
      if (instead) {
        if (strict) problems.push({ key: k, value: String(v), from: layer, expected: `a key of this lab: ${instead}` });
        else warnings.push(`${k} is the Python lab's key and is ignored here: ${instead}`);
        continue;
      }
      if (!isKey(k)) {
        const near = nearest(k, Object.keys(KEYS));
        const expected = `a known key (see docs/configuration.md)${near ? `; did you mean ${near}?` : ''}`;
        if (strict) problems.push({ key: k, value: String(v), from: layer, expected });
        // a .env file may hold other tools' keys: only a near miss of ours is worth a warning
        else if (near && layer === 'envFile') warnings.push(`.env key ${k} is not a tblab key and is ignored; did you mean ${near}?`);
        continue;
      }
      raw[k] = v;
      origin[k] = layer;
    }
  };

  const envFile = src.envFile === undefined ? join(cwd, '.env') : src.envFile;
  if (envFile !== false) {
    const p = resolve(cwd, envFile);
    if (existsSync(p)) {
      try {
        apply(parseDotenv(readFileSync(p, 'utf8')), 'envFile', false);
      } catch (e) {
        throw new LabError('CONFIG_FILE_UNREADABLE', { message: `Cannot read the .env file ${p}: ${(e as Error).message}`, cause: e });
      }
    } else if (src.envFile) {
      throw new LabError('CONFIG_FILE_UNREADABLE', { message: `The .env file ${p} does not exist` });
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const k of [...Object.keys(KEYS), ...Object.keys(ORIGINAL_KEY_ALIASES), ...Object.keys(ORIGINAL_ONLY_KEYS)]) {
    if (env[k] !== undefined) fromEnv[k] = env[k];
  }
  // lower-case proxy variables are the common spelling on Unix
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'] as const) {
    if (fromEnv[k] === undefined && env[k.toLowerCase()] !== undefined) fromEnv[k] = env[k.toLowerCase()];
  }
  apply(fromEnv, 'env', false);

  if (src.scenarioFile) {
    const p = resolve(cwd, src.scenarioFile);
    let obj: unknown;
    try {
      obj = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new LabError('CONFIG_FILE_UNREADABLE', { message: `Cannot read the scenario file ${p}: ${(e as Error).message}`, cause: e });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      problems.push({ key: '(scenario)', value: p, from: 'scenario', expected: 'a JSON object of KEY: value (keys as in .env)' });
    } else {
      const o = { ...(obj as Record<string, unknown>) };
      // stages may be given as an array of {duration, target} in a scenario file
      if (Array.isArray(o.STAGES)) {
        const r = stagesFromList(o.STAGES);
        if ('spec' in r) o.STAGES = r.spec;
        else {
          problems.push({ key: 'STAGES', value: JSON.stringify(o.STAGES), from: 'scenario', expected: r.problem });
          delete o.STAGES;
        }
      }
      // a scenario names its workloads in a list, `"workloads": ["device", "rpc"]` (the key WORKLOADS)
      if (o.workloads !== undefined) {
        if (o.WORKLOADS !== undefined)
          problems.push({ key: 'workloads', value: p, from: 'scenario', expected: 'workloads or WORKLOADS, not both' });
        else o.WORKLOADS = o.workloads;
        delete o.workloads;
      }
      delete o.$schema;
      delete o.description;
      delete o.name;
      apply(o, 'scenario', true);
    }
  }
  if (src.flags) apply(src.flags as Record<string, unknown>, 'flag', true);

  const out: Record<string, unknown> = {};
  for (const k of Object.keys(KEYS) as ConfigKey[]) {
    const r = KEYS[k].schema.safeParse(raw[k]);
    if (r.success) out[KEYS[k].prop] = r.data;
    else problems.push({ key: k, value: mask(k, raw[k]), from: origin[k], expected: r.error.issues.map((i) => i.message).join('; ') });
  }
  if (problems.length) return { ok: false, problems, warnings };

  // derived defaults
  const dataDir = isAbsolute(out.dataDir as string) ? (out.dataDir as string) : resolve(cwd, out.dataDir as string);
  out.dataDir = dataDir;
  out.disabledDevicesFile = out.disabledDevicesFile
    ? resolve(cwd, out.disabledDevicesFile as string)
    : join(dataDir, 'control', 'disabled_devices.json');
  out.pidFile = out.pidFile ? resolve(cwd, out.pidFile as string) : join(dataDir, 'control', 'tblab.pid');
  if (!out.mqttHost) out.mqttHost = new URL(out.tbUrl as string).hostname.replace(/^\[|\]$/g, '');
  const endpoints = out.mqttEndpoints as Array<{ host: string; port: number }>;
  if (endpoints.length) {
    // the first endpoint is also the one-endpoint form, for whatever reads MQTT_HOST/MQTT_PORT
    const set = (['MQTT_HOST', 'MQTT_PORT'] as const).filter((k) => origin[k] !== 'default');
    if (set.length)
      warnings.push(`${set.join(' and ')} ignored: MQTT_ENDPOINTS lists every MQTT endpoint (the first is ${endpoints[0].host}).`);
    [out.mqttHost, out.mqttPort] = [endpoints[0].host, endpoints[0].port];
  }
  for (const k of ['mqttCaFile', 'mqttCertFile', 'mqttKeyFile', 'payloadTemplate'] as const)
    if (out[k]) out[k] = resolve(cwd, out[k] as string);

  // cross-field rules
  const rule = (ok: boolean, key: ConfigKey, expected: string) => {
    if (!ok) problems.push({ key, value: mask(key, raw[key]), from: origin[key], expected });
  };
  rule((out.reconnectMinMs as number) <= (out.reconnectMaxMs as number), 'RECONNECT_MIN_MS', 'at most RECONNECT_MAX_MS');
  rule(
    !out.mqttCertFile === !out.mqttKeyFile,
    out.mqttCertFile ? 'MQTT_KEY_FILE' : 'MQTT_CERT_FILE',
    'MQTT_CERT_FILE and MQTT_KEY_FILE together, or neither',
  );
  for (const k of ['MQTT_CA_FILE', 'MQTT_CERT_FILE', 'MQTT_KEY_FILE', 'PAYLOAD_TEMPLATE'] as const) {
    const p = out[KEYS[k].prop] as string | undefined;
    rule(!p || existsSync(p), k, 'an existing file');
  }
  const rpcTargets = out.rpcTargets as string;
  rule(
    rpcTargets === 'devices' || (out.workloads as WorkloadName[]).includes('gateway'),
    'RPC_TARGETS',
    'devices unless gateway is in WORKLOADS (its children are the other targets)',
  );
  const httpDevices = out.httpDevices as number | undefined;
  if (httpDevices !== undefined) {
    const w = out.workloads as WorkloadName[];
    const count = out.deviceCount as number;
    rule(w.includes('http'), 'HTTP_DEVICES', 'only with http in WORKLOADS');
    rule(!w.includes('http') || hasDeviceRows(w), 'HTTP_DEVICES', 'unset with http alone: every device posts over HTTP (set DEVICE_COUNT)');
    rule(
      !w.includes('http') || !hasDeviceRows(w) || httpDevices < count,
      'HTTP_DEVICES',
      `fewer than DEVICE_COUNT (${count}): the rest are MQTT devices`,
    );
  }
  if (!out.mqttTls && (out.mqttCaFile || out.mqttCertFile))
    warnings.push('MQTT_CA_FILE/MQTT_CERT_FILE are set but MQTT_TLS is off: they are not used.');
  if (problems.length) return { ok: false, problems, warnings };
  return { ok: true, config: Object.freeze(out) as unknown as ResolvedConfig, warnings, origin };
}

/** Human text of the problems, one line each: `KEY=value (from env): expected …`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.key}=${JSON.stringify(p.value)} (from ${p.from}): ${p.expected}`).join('\n');
}

export function loadConfigOrThrow(src: ConfigSources = {}): { config: ResolvedConfig; warnings: string[] } {
  const r = loadConfig(src);
  if (!r.ok) {
    throw new LabError('CONFIG_INVALID', {
      message: `Invalid configuration (${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}):\n${formatProblems(r.problems)}`,
      details: { problems: r.problems },
    });
  }
  return { config: r.config, warnings: r.warnings };
}

/** The config as it may be shown or stored: secrets removed, credentials in URLs masked. */
export function redactConfig(config: ResolvedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const secretProps = new Set(SECRET_KEYS.map((k) => KEYS[k].prop as string));
  for (const [k, v] of Object.entries(config)) {
    if (secretProps.has(k)) continue;
    out[k] = typeof v === 'string' ? (k === 'mqttHost' ? redactHost(v) : redactUrl(v)) : v;
  }
  return out;
}
