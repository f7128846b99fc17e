// `tblab check`: can the lab work against this target from this machine? REST login and one page
// of devices, MQTT reachability of every endpoint (+ one CONNECT with a provisioned device), the
// connection plan (shards, source addresses, devices per endpoint) and the generator pre-flight.
// Every check yields a verdict line; the first FAIL decides the exit code.
import type { ResolvedConfig } from '../config/index.js';
import type { LabContext } from './context.js';
import { ExitCode, LabError, describeError, ERRORS } from '../common/errors.js';
import { clientFromConfig } from '../thingsboard/client.js';
import type { PageData, TbDevice, TbUser } from '../thingsboard/types.js';
import { readTokenFile, fleetFromTokenFile } from './fleet-file.js';
import { probeMqtt } from './mqtt-probe.js';
import { connectionPlan, preflight, readHostFacts, type CheckLine, type HostFacts } from './preflight.js';
import { describePlan } from './connection-plan.js';
import { endpointLabel, endpointOf, targetEndpoints } from '../common/endpoints.js';
import { redactText, redactUrl, sameServer } from '../common/redact.js';

export interface CheckReport {
  ok: boolean;
  exitCode: number;
  checks: CheckLine[];
}

export interface CheckOptions {
  /** Host facts to judge (default: read from this machine); tests pass their own. */
  host?: HostFacts;
}

export async function runCheck(_ctx: LabContext, cfg: ResolvedConfig, opts: CheckOptions = {}): Promise<CheckReport> {
  const checks: CheckLine[] = [];
  const fail = (name: string, e: unknown): CheckLine => {
    const code = e instanceof LabError ? e.code : 'INTERNAL';
    return { name, verdict: 'FAIL', code, message: e instanceof LabError ? e.message : describeError(e) };
  };

  const client = clientFromConfig(cfg);
  try {
    const me = await client.login();
    let tenant = me.tenantId;
    if (!tenant) tenant = (await client.get<TbUser>('/api/auth/user')).tenantId.id;
    checks.push({
      name: 'login',
      verdict: 'OK',
      message: `login as ${me.username} (tenant ${tenant}) on ${redactUrl(cfg.tbUrl)}`,
      details: { user: me.username, tenantId: tenant, authority: me.authority },
    });
    try {
      const page = await client.get<PageData<TbDevice>>('/api/tenant/devices', {
        pageSize: 10,
        page: 0,
        textSearch: `${cfg.devicePrefix}-`,
        sortProperty: 'name',
        sortOrder: 'ASC',
      });
      const first = page.data
        .map((d) => d.name)
        .slice(0, 3)
        .join(', ');
      checks.push({
        name: 'devices',
        verdict: 'OK',
        message: `devices: ${page.totalElements} named ${cfg.devicePrefix}-* on the server${first ? ` (${first}${page.totalElements > 3 ? ', …' : ''})` : ''}`,
        details: { total: page.totalElements },
      });
    } catch (e) {
      checks.push(fail('devices', e));
    }
  } catch (e) {
    checks.push(fail('login', e));
  } finally {
    await client.close();
  }

  // a broken token file fails here, not later in `run` (the connect check below only warns)
  try {
    readTokenFile(cfg.dataDir);
  } catch (e) {
    checks.push(fail('tokens', e));
  }

  const endpoints = targetEndpoints(cfg);
  const base = {
    tls: cfg.mqttTls,
    caFile: cfg.mqttCaFile,
    certFile: cfg.mqttCertFile,
    keyFile: cfg.mqttKeyFile,
    insecure: cfg.mqttTlsInsecure,
    protocolVersion: (cfg.mqttVersion === '5' ? 5 : 4) as 4 | 5,
    timeoutMs: Math.min(cfg.restTimeoutMs, 10_000),
  };
  const scheme = cfg.mqttTls ? 'mqtts' : 'mqtt';
  // every endpoint at once: a cluster's nodes answer independently
  const probes = await Promise.all(
    endpoints.map(async (e, k): Promise<{ line: CheckLine; ok: boolean }> => {
      const url = `${scheme}://${endpointLabel(e)}`;
      const name = endpoints.length > 1 ? `mqtt endpoint ${k + 1}/${endpoints.length}` : 'mqtt';
      try {
        const r = await probeMqtt({ ...base, host: e.host, port: e.port });
        const how = `${cfg.mqttTls ? `TLS ${r.tlsProtocol}, ` : 'TCP, '}${r.connectMs} ms`;
        return { ok: true, line: { name, verdict: 'OK', message: `MQTT ${url} reachable (${how})` } };
      } catch (e) {
        const message = `MQTT ${url} not reachable: ${describeError(e)}`;
        return { ok: false, line: { name, verdict: 'FAIL', code: 'TARGET_UNREACHABLE', message } };
      }
    }),
  );
  checks.push(...probes.map((p) => p.line));
  if (probes.every((p) => p.ok)) checks.push(await connectCheck(cfg, base));

  const host = opts.host ?? readHostFacts();
  const plan = connectionPlan(cfg, host);
  checks.push({
    name: 'plan',
    verdict: 'OK',
    message: `plan: ${describePlan(plan, host)}`,
    details: { ...plan, addresses: plan.addresses },
  });
  checks.push(...preflight(plan, host));
  // library errors (DNS, sockets) may quote a host setting as it was given
  for (const c of checks) c.message = redactText(c.message, [cfg.mqttHost]);
  const failed = checks.find((c) => c.verdict === 'FAIL');
  return { ok: !failed, exitCode: failed ? (failed.code ? ExitCode[ERRORS[failed.code].exit] : ExitCode.INTERNAL) : ExitCode.OK, checks };
}

/** One MQTT CONNECT with the first provisioned device, at the endpoint the run would send it to. */
async function connectCheck(cfg: ResolvedConfig, base: Omit<Parameters<typeof probeMqtt>[0], 'host' | 'port'>): Promise<CheckLine> {
  let tf;
  try {
    tf = readTokenFile(cfg.dataDir);
  } catch (e) {
    return { name: 'mqtt connect', verdict: 'WARN', message: `MQTT CONNECT skipped: ${describeError(e)}` };
  }
  const device = tf && sameServer(tf.server, cfg.tbUrl) ? fleetFromTokenFile(tf)[0] : undefined;
  if (!device) {
    const message = `MQTT CONNECT skipped: no provisioned device of ${redactUrl(cfg.tbUrl)} in tokens.json yet (run \`tblab provision\`)`;
    return { name: 'mqtt connect', verdict: 'WARN', message };
  }
  const endpoints = targetEndpoints(cfg);
  const e = endpoints[endpointOf(device.index, endpoints.length)];
  const url = `${cfg.mqttTls ? 'mqtts' : 'mqtt'}://${endpointLabel(e)}`;
  try {
    const r = await probeMqtt(
      { ...base, host: e.host, port: e.port },
      { clientId: `tblab-check-${process.pid}`, credentials: device.credentials },
    );
    if (r.connack!.code === 0)
      return { name: 'mqtt connect', verdict: 'OK', message: `MQTT CONNECT as ${device.name} accepted (CONNACK 0, ${r.connack!.ms} ms)` };
    return {
      name: 'mqtt connect',
      verdict: 'FAIL',
      code: 'MQTT_REFUSED',
      message: `MQTT CONNECT as ${device.name} refused by ${url} (CONNACK ${r.connack!.code}): the token file does not match this server; re-run \`tblab provision\``,
      details: { connack: r.connack!.code },
    };
  } catch (e) {
    return {
      name: 'mqtt connect',
      verdict: 'FAIL',
      code: 'TARGET_UNREACHABLE',
      message: `MQTT CONNECT as ${device.name} to ${url} failed: ${describeError(e)}`,
    };
  }
}

/** `tblab check`: one verdict line per check on stderr (JSON on stdout with `json`); returns the exit code. */
export async function checkCommand(ctx: LabContext, cfg: ResolvedConfig, o: { json: boolean }): Promise<number> {
  const r = await runCheck(ctx, cfg);
  if (o.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
  for (const c of r.checks) {
    const text = c.message.toLowerCase().startsWith(c.name) ? c.message : `${c.name}: ${c.message}`;
    ctx.stderr.write(`[${c.verdict}]${c.verdict === 'OK' ? '  ' : ' '}${text}\n`);
  }
  const failed = r.checks.find((c) => c.verdict === 'FAIL');
  if (failed?.code) ctx.stderr.write(`error [${failed.code}]: ${failed.name} failed\n  hint: ${ERRORS[failed.code].hint}\n`);
  return r.exitCode;
}
