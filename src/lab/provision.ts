// `tblab provision`: make the fleet exist — DEVICE_COUNT devices `<prefix>-NNN` on the profile,
// server attributes batch/group/index, credentials in tokens.json (0600) and the teardown manifest
// devices.csv. Idempotent (existing devices are found by one paged listing and reused), resumable
// (files are checkpointed every second; a device enters tokens.json only once fully set up).
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { LabError } from '../common/errors.js';
import { deviceName, sliceBounds, type FleetDevice, type TokenFile } from '../common/fleet.js';
import { clientFromConfig } from '../thingsboard/client.js';
import {
  createDevice,
  deleteDevice,
  findDeviceByName,
  getCredentials,
  saveCredentials,
  saveServerAttributes,
} from '../thingsboard/devices.js';
import { isAlreadyExists, isDuplicateCredentials } from '../thingsboard/errors.js';
import type { NewDevice, TbDevice } from '../thingsboard/types.js';
import { readTokenFile, writeTokenFile, writeManifest, tokensPath, manifestPath, type ManifestRow } from './fleet-file.js';
import { fromServerCredentials, generateAccessToken } from './credentials.js';
import { compareNames, listFleetOnServer } from './fleet-server.js';
import { driftOf, driftWarning, resolveProfile, type Drift } from './provision-profile.js';
import { runPool } from './pool.js';
import { startProgress } from './progress.js';
import { redactUrl, sameServer } from '../common/redact.js';

/** Devices per `batch` server attribute (batch = ceil(index / BATCH_SIZE)). */
export const BATCH_SIZE = 100;

export interface ProvisionOptions {
  /** Give every device of the fleet a new access token. */
  rotateTokens?: boolean;
  /** Delete `<prefix>-N` devices outside 1..DEVICE_COUNT. */
  prune?: boolean;
  /** Show a progress bar / progress lines on stderr (default true). */
  progress?: boolean;
  /** Checkpoint interval of tokens.json and devices.csv, ms (default 1000). */
  checkpointMs?: number;
  /** Bring reused devices' label and type/profile in line with the configuration (default true); false = report the drift. */
  update?: boolean;
}

export type { Drift };

export interface ProvisionSummary {
  server: string;
  prefix: string;
  /** Devices this run was responsible for (the slice with --instance). */
  total: number;
  slice: { start: number; end: number } | null;
  deviceProfileId: string | null;
  created: number;
  /** Found on the server and kept (credentials fetched when not already on file). */
  reused: number;
  rotated: number;
  pruned: number;
  /** `<prefix>-N` devices outside the fleet that were left alone (use --prune). */
  extra: string[];
  /** Skipped: existing devices whose credentials the lab cannot use (X.509). */
  skipped: string[];
  /** Reused devices whose label or type/profile were changed to the configuration. */
  updated: number;
  /** Reused devices left differing from the configuration (`update: false`), by name. */
  drift: Record<string, Drift>;
  seconds: number;
  concurrency: number;
  requests: number;
  retries: { rateLimited: number; serverError: number; network: number };
  /** Logins and token refreshes (proactive and after 401 "Token has expired"). */
  auth: { logins: number; refreshes: number };
  tokenFile: string;
  manifest: string;
}

export async function provision(ctx: LabContext, cfg: ResolvedConfig, opts: ProvisionOptions): Promise<ProvisionSummary> {
  const t0 = Date.now();
  const prefix = cfg.devicePrefix;
  const slice = cfg.instance ? sliceBounds(cfg.deviceCount, cfg.instance.index, cfg.instance.count) : null;
  if (slice && opts.prune)
    throw new LabError('USAGE', {
      message: '--prune cannot be combined with INSTANCE/--instance: prune from one instance that sees the whole fleet',
    });
  const [start, end] = slice ? [slice.start, slice.end] : [0, cfg.deviceCount];
  const say = (s: string) => ctx.stderr.write(s + '\n');

  const client = clientFromConfig(cfg);
  let stop: string | null = null;
  const offSignal = ctx.onSignal((s) => {
    stop = s;
  });
  try {
    await client.login();
    const profile = await resolveProfile(client, cfg);
    const onServer = await listFleetOnServer(client, prefix);

    let previous: TokenFile | null = null;
    try {
      previous = readTokenFile(cfg.dataDir);
    } catch (e) {
      // provisioning is how a broken token file is repaired: start from what the server has
      if (!(e instanceof LabError) || e.code !== 'CONFIG_FILE_UNREADABLE') throw e;
      say(`note: ${e.message}; it is rewritten from the server`);
    }
    let devices: TokenFile['devices'] = {};
    if (previous && (!sameServer(previous.server, cfg.tbUrl) || previous.prefix !== prefix)) {
      const was = `the fleet "${previous.prefix}" of ${redactUrl(previous.server)}`;
      say(`note: ${tokensPath(cfg.dataDir)} held ${was}; it is replaced by "${prefix}" of ${redactUrl(cfg.tbUrl)}`);
    } else if (previous) devices = { ...previous.devices };

    const inFleet = new Set<string>();
    for (let i = 1; i <= cfg.deviceCount; i++) inFleet.add(deviceName(prefix, i));
    const extra = [...onServer.keys()].filter((n) => !inFleet.has(n)).sort(compareNames);
    // the token file holds exactly this run's devices: drop what is outside the fleet or slice
    for (const name of Object.keys(devices)) {
      const idx = devices[name].index;
      if (!inFleet.has(name) || idx <= start || idx > end) delete devices[name];
    }

    const rows = new Map<string, ManifestRow>();
    const rowOf = (d: TbDevice, index: number): ManifestRow => ({
      name: d.name,
      id: d.id.id,
      index,
      profileId: d.deviceProfileId?.id ?? null,
      label: d.label ?? null,
      type: d.type ?? null,
      createdAt: new Date(d.createdTime).toISOString(),
    });
    let profileId = profile.id;
    const counts = { created: 0, reused: 0, rotated: 0, pruned: 0, updated: 0 };
    const drift: Record<string, Drift> = {};
    // a reused device gets the configured label and type/profile (or its drift is reported), so the
    // files below record what the server has after this run
    const inLine = async (d: TbDevice): Promise<TbDevice> => {
      const diff = driftOf(d, cfg, profile);
      if (Object.keys(diff).length === 0) return d;
      if (opts.update === false) {
        drift[d.name] = diff;
        return d;
      }
      const body: Record<string, unknown> = { ...d };
      if (diff.label) body.label = cfg.deviceLabel;
      if (diff.deviceProfileId) body.deviceProfileId = { entityType: 'DEVICE_PROFILE', id: profile.id };
      // by type: the server finds or creates the profile of that name when no profile id is given
      if (diff.type) Object.assign(body, { deviceProfileId: null, type: profile.type });
      const saved = await client.post<TbDevice>('/api/device', body);
      counts.updated++;
      return saved;
    };
    const skipped: string[] = [];
    let dirty = true;
    const flush = () => {
      if (!dirty) return;
      dirty = false;
      const sorted: TokenFile['devices'] = {};
      for (const [n, d] of Object.entries(devices).sort((a, b) => a[1].index - b[1].index)) sorted[n] = d;
      // the server is recorded redacted: the file is compared by sameServer(), never used to connect
      const server = redactUrl(cfg.tbUrl);
      const updatedAt = new Date().toISOString();
      writeTokenFile(cfg.dataDir, { version: 1, server, prefix, deviceProfileId: profileId, updatedAt, devices: sorted });
      const extraRows = slice ? [] : extra.filter((n) => onServer.has(n)).map((n) => rowOf(onServer.get(n)!, Number(/(\d+)$/.exec(n)![1])));
      writeManifest(cfg.dataDir, [...rows.values(), ...extraRows]);
    };
    const checkpoint = setInterval(flush, opts.checkpointMs ?? 1000);
    checkpoint.unref();

    const record = (d: TbDevice, index: number, credentials: FleetDevice['credentials']) => {
      devices[d.name] = { index, id: d.id.id, credentials };
      rows.set(d.name, rowOf(d, index));
      dirty = true;
    };

    const setUp = async (d: TbDevice, index: number, rotate: boolean) => {
      let creds = await getCredentials(client, d.id.id);
      if (rotate) {
        creds = await saveCredentials(client, {
          ...creds,
          credentialsType: 'ACCESS_TOKEN',
          credentialsId: generateAccessToken(),
          credentialsValue: null,
        });
      }
      const credentials = fromServerCredentials(creds);
      if (!credentials) {
        skipped.push(d.name);
        return;
      }
      await saveServerAttributes(client, d.id.id, { batch: Math.ceil(index / BATCH_SIZE), group: prefix, index });
      record(d, index, credentials);
    };

    const body = (name: string): NewDevice => ({
      name,
      ...(cfg.deviceLabel ? { label: cfg.deviceLabel } : {}),
      ...(profile.id ? { deviceProfileId: { entityType: 'DEVICE_PROFILE', id: profile.id } } : { type: profile.type }),
    });

    const create = async (name: string, index: number) => {
      for (let attempt = 0; ; attempt++) {
        const token = generateAccessToken();
        let d: TbDevice;
        try {
          d = await createDevice(client, body(name), token);
        } catch (e) {
          if (isDuplicateCredentials(e) && attempt < 3) continue;
          // taken meanwhile, or our own earlier attempt succeeded before a retry: reuse it
          if (!isAlreadyExists(e)) throw e;
          const found = await findDeviceByName(client, name);
          if (!found) throw e;
          await setUp(await inLine(found), index, opts.rotateTokens ?? false);
          counts.reused++;
          return;
        }
        profileId ??= d.deviceProfileId?.id ?? null;
        await saveServerAttributes(client, d.id.id, { batch: Math.ceil(index / BATCH_SIZE), group: prefix, index });
        record(d, index, { type: 'ACCESS_TOKEN', token });
        counts.created++;
        return;
      }
    };

    const total = end - start;
    const bar = opts.progress === false ? null : startProgress({ stream: ctx.stderr, total, unit: 'devices', label: 'provision' });
    try {
      await runPool(
        total,
        cfg.provisionConcurrency,
        async (k) => {
          const index = start + k + 1;
          const name = deviceName(prefix, index);
          const listed = onServer.get(name);
          const d = listed ? await inLine(listed) : undefined;
          if (d && !profile.id) profileId ??= d.deviceProfileId?.id ?? null;
          const known = devices[name];
          if (d && known && known.id === d.id.id && !opts.rotateTokens) {
            rows.set(name, rowOf(d, index));
            counts.reused++;
          } else if (d) {
            delete devices[name];
            await setUp(d, index, opts.rotateTokens ?? false);
            if (opts.rotateTokens) counts.rotated++;
            else counts.reused++;
          } else {
            delete devices[name];
            await create(name, index);
          }
          bar?.tick();
        },
        () => stop !== null,
      );

      if (opts.prune && extra.length > 0 && stop === null) {
        await runPool(
          extra.length,
          cfg.provisionConcurrency,
          async (k) => {
            const d = onServer.get(extra[k])!;
            await deleteDevice(client, d.id.id);
            onServer.delete(extra[k]);
            counts.pruned++;
            dirty = true;
          },
          () => stop !== null,
        );
      }
    } catch (e) {
      bar?.stop();
      clearInterval(checkpoint);
      flush();
      say(
        `provision: stopped after ${Object.keys(devices).length} of ${total} devices were ready; re-run \`tblab provision\` to finish (nothing is duplicated)`,
      );
      throw e;
    }
    bar?.stop();
    clearInterval(checkpoint);
    dirty = true;
    flush();
    if (stop !== null) {
      throw new LabError('ABORTED', {
        message: `Provisioning stopped by ${stop} with ${Object.keys(devices).length} of ${total} devices ready`,
        hint: 'Re-run `tblab provision` to finish; existing devices are reused.',
      });
    }
    const driftNote = driftWarning(drift);
    if (driftNote) say(driftNote);
    for (const n of skipped)
      say(`warning: ${n} has X.509 (or LwM2M) credentials the lab cannot use; --rotate-tokens replaces them with an access token`);
    const leftExtra = opts.prune ? [] : extra;
    if (leftExtra.length)
      say(
        `note: ${leftExtra.length} device(s) named ${prefix}-N lie outside 1..${cfg.deviceCount} (e.g. ${leftExtra[0]}); they stay in devices.csv; --prune deletes them`,
      );
    const st = client.stats;
    return {
      server: redactUrl(cfg.tbUrl),
      prefix,
      total,
      slice,
      deviceProfileId: profileId,
      ...counts,
      extra: leftExtra,
      skipped,
      drift,
      seconds: Number(((Date.now() - t0) / 1000).toFixed(2)),
      concurrency: cfg.provisionConcurrency,
      requests: st.requests,
      retries: st.retries,
      auth: { logins: st.logins, refreshes: st.refreshes },
      tokenFile: tokensPath(cfg.dataDir),
      manifest: manifestPath(cfg.dataDir),
    };
  } finally {
    offSignal?.();
    await client.close();
  }
}
