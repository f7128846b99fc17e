// Reading and writing the fleet files: tokens.json (secrets, 0600) and devices.csv (the
// token-free teardown manifest). Both are written atomically.
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic, writeJsonAtomic } from '../common/fs.js';
import { LabError } from '../common/errors.js';
import type { FleetDevice, TokenFile } from '../common/fleet.js';

export const tokensPath = (dataDir: string) => join(dataDir, 'provisioning', 'tokens.json');
export const manifestPath = (dataDir: string) => join(dataDir, 'provisioning', 'devices.csv');

export function readTokenFile(dataDir: string): TokenFile | null {
  return readCredentialsFile(tokensPath(dataDir), { file: 'token file', entry: 'device', hint: REWRITE });
}

/**
 * A file of devices and their credentials (tokens.json; gateways.json, whose entries are `gateway`s),
 * parsed and validated; null when it does not exist.
 */
export function readCredentialsFile(p: string, what: { file: string; entry: string; hint: string }): TokenFile | null {
  if (!existsSync(p)) return null;
  let t: unknown;
  try {
    t = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    const message = `The ${what.file} ${p} is not valid JSON: ${(e as Error).message}`;
    throw new LabError('CONFIG_FILE_UNREADABLE', { message, hint: what.hint });
  }
  const problem = tokenFileProblem(t);
  if (problem) {
    const message = `The ${what.file} ${p}: ${problem.replace(/^device /, `${what.entry} `)}`;
    throw new LabError('CONFIG_FILE_UNREADABLE', { message, hint: what.hint });
  }
  return t as TokenFile;
}

const REWRITE = 'Fix the entry, or re-run `tblab provision` to rewrite the file from what the server has.';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => typeof v === 'string' && v !== '';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
const shown = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));
/** What a credential field holds, without its value (it may be a secret). */
const kind = (v: unknown) =>
  v === undefined ? 'missing' : v === null ? 'null' : v === '' ? 'empty' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;

/** The first thing wrong with a parsed token file, naming the device and field; null when valid. */
export function tokenFileProblem(t: unknown): string | null {
  if (!isObj(t)) return 'is not a JSON object';
  if (t.version !== 1) return `"version" is ${shown(t.version)}, expected 1`;
  if (!isObj(t.devices)) return `"devices" is ${shown(t.devices)}, expected an object of devices by name`;
  for (const [name, d] of Object.entries(t.devices)) {
    const at = (field: string, v: unknown, want: string) =>
      `device "${name}": ${field} is ${/credentials\.(?!type)/.test(field) ? kind(v) : shown(v)}, expected ${want}`;
    if (!isObj(d)) return at('the entry', d, 'an object');
    if (!Number.isInteger(d.index) || (d.index as number) < 1) return at('"index"', d.index, 'a positive integer');
    if (!str(d.id)) return at('"id"', d.id, 'the device id');
    const c = d.credentials;
    if (!isObj(c)) return at('"credentials"', c, 'an object with "type"');
    if (c.type === 'ACCESS_TOKEN') {
      if (!str(c.token)) return at('"credentials.token"', c.token, 'a non-empty string');
    } else if (c.type === 'MQTT_BASIC') {
      for (const k of ['clientId', 'username', 'password']) {
        if (!strOrNull(c[k])) return at(`"credentials.${k}"`, c[k], 'a string or null');
      }
      if (!str(c.clientId) && !str(c.username)) {
        return at('"credentials.clientId" and "credentials.username"', null, 'at least one of them');
      }
    } else if (c.type === 'X509_CERTIFICATE') {
      for (const k of ['certFile', 'keyFile']) if (!str(c[k])) return at(`"credentials.${k}"`, c[k], 'a file path');
    } else return at('"credentials.type"', c.type, 'ACCESS_TOKEN, MQTT_BASIC or X509_CERTIFICATE');
  }
  return null;
}

export function writeTokenFile(dataDir: string, t: TokenFile): void {
  writeJsonAtomic(tokensPath(dataDir), t, { mode: 0o600 });
}

/** Devices of the token file with the given prefix, ordered by index. */
export function fleetFromTokenFile(t: TokenFile, prefix?: string): FleetDevice[] {
  const out: FleetDevice[] = [];
  for (const [name, d] of Object.entries(t.devices)) {
    if (prefix && !name.startsWith(prefix + '-')) continue;
    out.push({ name, ...d });
  }
  return out.sort((a, b) => a.index - b.index || (a.name < b.name ? -1 : 1));
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export interface ManifestRow {
  name: string;
  id: string;
  index: number;
  profileId: string | null;
  label: string | null;
  type: string | null;
  createdAt: string;
}

export const MANIFEST_HEADER = ['name', 'id', 'index', 'profileId', 'label', 'type', 'createdAt'] as const;

export function writeManifest(dataDir: string, rows: ManifestRow[]): void {
  const lines = [MANIFEST_HEADER.join(',')];
  for (const r of [...rows].sort((a, b) => a.index - b.index)) lines.push(MANIFEST_HEADER.map((k) => csvCell(r[k])).join(','));
  writeFileAtomic(manifestPath(dataDir), lines.join('\n') + '\n');
}

export function readManifest(dataDir: string): ManifestRow[] {
  const p = manifestPath(dataDir);
  if (!existsSync(p)) return [];
  const lines = readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const header = lines.shift()?.split(',') ?? [];
  return lines.map((line) => {
    const cells = parseCsvLine(line);
    const o: Record<string, string> = {};
    header.forEach((h, i) => (o[h] = cells[i] ?? ''));
    return {
      name: o.name,
      id: o.id,
      index: Number(o.index),
      profileId: o.profileId || null,
      label: o.label || null,
      type: o.type || null,
      createdAt: o.createdAt,
    };
  });
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
