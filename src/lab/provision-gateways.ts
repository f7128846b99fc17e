// Provisioning of the gateway workload: GATEWAYS gateway devices `<prefix>-gNNN`, each with
// `additionalInfo.gateway = true` (ThingsBoard's MqttTransportHandler only opens the gateway API
// on such a device's session) and an access token, their credentials in provisioning/gateways.json.
// The children are not created here: ThingsBoard creates each on its first `v1/gateway/connect`
// (DefaultTransportApiService, GetOrCreateDeviceFromGatewayRequestMsg), which the run measures.
// Idempotent like `provision`: existing gateways are found by one listing and reused (and made
// gateways if they were not).
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { sliceBounds, type TokenFile } from '../common/fleet.js';
import { clientFromConfig, type TbClient } from '../thingsboard/client.js';
import { createDevice, getCredentials, listDevices } from '../thingsboard/devices.js';
import type { NewDevice, TbDevice } from '../thingsboard/types.js';
import { fromServerCredentials, generateAccessToken } from './credentials.js';
import { resolveProfile } from './provision-profile.js';
import { gatewayName, gatewayNamePattern, gatewaysPath, readGatewayFile, writeGatewayFile } from './gateway-fleet.js';
import { runPool } from './pool.js';
import { redactUrl, sameServer } from '../common/redact.js';
import { LabError } from '../common/errors.js';

export interface GatewayProvisionSummary {
  total: number;
  created: number;
  reused: number;
  /** Existing devices of that name that were not gateways, made gateways. */
  madeGateway: number;
  /** Gateways whose credentials the lab cannot use (X.509), left out. */
  skipped: string[];
  file: string;
}

const isGateway = (d: TbDevice) => (d.additionalInfo as { gateway?: unknown } | null | undefined)?.gateway === true;

/** Makes GATEWAYS gateway devices exist (this instance's slice with INSTANCE) and records their credentials. */
export async function provisionGateways(_ctx: LabContext, cfg: ResolvedConfig): Promise<GatewayProvisionSummary> {
  const prefix = cfg.devicePrefix;
  const { start, end } = cfg.instance ? sliceBounds(cfg.gateways, cfg.instance.index, cfg.instance.count) : { start: 0, end: cfg.gateways };
  const client = clientFromConfig(cfg);
  try {
    await client.login();
    const profile = await resolveProfile(client, cfg);
    const re = gatewayNamePattern(prefix);
    const onServer = new Map<string, TbDevice>();
    for await (const d of listDevices(client, `${prefix}-g`)) if (re.test(d.name)) onServer.set(d.name, d);
    const previous = readGatewayFile(cfg.dataDir);
    const known: TokenFile['devices'] =
      previous && sameServer(previous.server, cfg.tbUrl) && previous.prefix === prefix ? previous.devices : {};
    const devices: TokenFile['devices'] = {};
    const counts = { created: 0, reused: 0, madeGateway: 0 };
    const skipped: string[] = [];
    const body = (name: string): NewDevice & { additionalInfo: Record<string, unknown> } => ({
      name,
      ...(cfg.deviceLabel ? { label: cfg.deviceLabel } : {}),
      ...(profile.id ? { deviceProfileId: { entityType: 'DEVICE_PROFILE', id: profile.id } } : { type: profile.type }),
      additionalInfo: { gateway: true },
    });
    await runPool(end - start, cfg.provisionConcurrency, async (k) => {
      const index = start + k + 1;
      const name = gatewayName(prefix, index);
      let d = onServer.get(name);
      if (!d) {
        const token = generateAccessToken();
        d = await createDevice(client, body(name), token);
        devices[name] = { index, id: d.id.id, credentials: { type: 'ACCESS_TOKEN', token } };
        counts.created++;
        return;
      }
      if (!isGateway(d)) {
        d = await makeGateway(client, d);
        counts.madeGateway++;
      }
      counts.reused++;
      const was = known[name];
      if (was && was.id === d.id.id) {
        devices[name] = { ...was, index };
        return;
      }
      const credentials = fromServerCredentials(await getCredentials(client, d.id.id));
      if (!credentials) skipped.push(name);
      else devices[name] = { index, id: d.id.id, credentials };
    });
    const sorted: TokenFile['devices'] = {};
    for (const [n, d] of Object.entries(devices).sort((a, b) => a[1].index - b[1].index)) sorted[n] = d;
    const server = redactUrl(cfg.tbUrl);
    writeGatewayFile(cfg.dataDir, {
      version: 1,
      server,
      prefix,
      deviceProfileId: profile.id,
      updatedAt: new Date().toISOString(),
      devices: sorted,
    });
    if (skipped.length) {
      throw new LabError('NO_FLEET', {
        message: `${skipped.length} gateway(s) have credentials the lab cannot use (X.509), e.g. ${skipped[0]}`,
        hint: 'Give them an access token in ThingsBoard, or delete them and re-run `tblab provision --workload gateway`.',
      });
    }
    return { total: end - start, ...counts, skipped, file: gatewaysPath(cfg.dataDir) };
  } finally {
    await client.close();
  }
}

/** Sets `additionalInfo.gateway = true` on an existing device (the rest of it unchanged). */
function makeGateway(client: TbClient, d: TbDevice): Promise<TbDevice> {
  const info = typeof d.additionalInfo === 'object' && d.additionalInfo !== null ? d.additionalInfo : {};
  return client.post<TbDevice>('/api/device', { ...d, additionalInfo: { ...info, gateway: true } });
}
