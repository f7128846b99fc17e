// The outcome of a finished run, judged from what it measured: a run in which no device ever
// connected delivered no load (`failed`, with the connect failure that stopped every device and
// a hint naming the MQTT keys), a run that lost a shard finished with part of its fleet
// (`degraded`). Each has a catalogue code and exit code (src/common/errors.ts, docs/errors.md).
import { ERRORS, ExitCode, type ErrorCode } from '../common/errors.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import type { RunOutcome, RunResults } from '../metrics/records.js';

/** Why a run's outcome is `failed` or `degraded`: shown on the console and kept in the report. */
export interface RunProblem {
  code: ErrorCode;
  message: string;
  hint: string;
  exitCode: number;
}

function problem(code: ErrorCode, message: string, hint: string = ERRORS[code].hint): RunProblem {
  return { code, message, hint, exitCode: ExitCode[ERRORS[code].exit] };
}

/** The most frequent connect outcome other than `accepted`, with its count. */
export function dominantConnectFailure(byOutcome: Record<string, number>): { cause: string; count: number } | null {
  let best: { cause: string; count: number } | null = null;
  for (const [cause, count] of Object.entries(byOutcome)) {
    if (cause !== 'accepted' && count > 0 && (!best || count > best.count)) best = { cause, count };
  }
  return best;
}

const NETWORK = /^(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|connect timeout)$/;
const UNTRUSTED = /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/;

/** What to check for a connect failure `cause` (a `connections.byOutcome` key), naming the keys. */
export function connectFailureHint(cause: string, target: MetricsSnapshot['target']): string {
  const tls = target.mqtt.startsWith('mqtts:');
  const where = target.mqtt.replace(/^mqtts?:\/\//, '');
  if (cause === 'ECONNREFUSED') {
    return `Nothing accepts connections at ${where}: check MQTT_HOST and MQTT_PORT (ThingsBoard listens on 1883, or 8883 with MQTT_TLS=1) and that the server runs.`;
  }
  if (NETWORK.test(cause))
    return `${where} did not answer: check MQTT_HOST, MQTT_PORT, firewalls, and CONNECT_TIMEOUT_MS for a slow server.`;
  if (/^refused: .*\((4|5|0x86|0x87)\)$/.test(cause)) {
    return 'The server does not know these device tokens: tokens.json belongs to another server or the devices were deleted; run `tblab provision` against this server (TB_URL, MQTT_HOST).';
  }
  if (cause.startsWith('refused:'))
    return `The server refused the MQTT CONNECT (${cause}): check MQTT_VERSION and the server's MQTT transport.`;
  if (cause === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `The certificate does not name ${where}: set MQTT_HOST to a name the certificate holds.`;
  if (UNTRUSTED.test(cause)) {
    return `The server's TLS certificate is not trusted (${cause}): set MQTT_CA_FILE to the PEM of its CA, or MQTT_TLS_INSECURE=1 on a test server.`;
  }
  if (tls && /^(ECONNRESET|EPROTO|ERR_SSL|server closed|connection lost)/.test(cause)) {
    return `The TLS handshake with ${where} failed (${cause}): MQTT_TLS=1 but MQTT_PORT may be a plain MQTT port (TLS is usually 8883); set MQTT_TLS=0 or the TLS port.`;
  }
  if (!tls && /^(ECONNRESET|server closed|connection lost|protocol violation)/.test(cause)) {
    return `${where} closed the connection before CONNACK (${cause}): if MQTT_PORT is a TLS port (usually 8883), set MQTT_TLS=1 (and MQTT_CA_FILE).`;
  }
  if (cause === NO_ANSWER) {
    return tls
      ? `${where} took the TCP connection but never answered the TLS handshake: MQTT_TLS=1 against a plain MQTT port? ` +
          'Check MQTT_PORT (TLS is usually 8883) or set MQTT_TLS=0; a slow server needs a higher CONNECT_TIMEOUT_MS.'
      : `${where} took the TCP connection but never answered CONNECT: a TLS port (usually 8883)? Then set MQTT_TLS=1 ` +
          '(and MQTT_CA_FILE); a slow server needs a higher CONNECT_TIMEOUT_MS.';
  }
  return `Check MQTT_HOST, MQTT_PORT, MQTT_TLS and the device tokens; the per-shard events log names each failure.`;
}

/** The cause of a run whose connect attempts were all still waiting for a CONNACK. */
export const NO_ANSWER = 'no CONNACK (attempts still waiting)';

/** The first round-trip workload (rpc, attributes) of the run that made no call at all, or null. */
function idleRoundTrips(metrics: MetricsSnapshot): string | null {
  for (const name of ['rpc', 'attributes']) {
    const w = metrics.workloads?.[name];
    if (!w) continue;
    const calls = ['sent', 'clientSent', 'requestSent'].reduce((n, k) => n + (typeof w[k] === 'number' ? w[k] : 0), 0);
    if (calls === 0) return name;
  }
  return null;
}

/** What `judgeOutcome` decides. */
export interface JudgedOutcome {
  outcome: RunOutcome;
  endReason: string;
  problem: RunProblem | null;
}

/** Outcome, end reason and problem of a finished run; a checkpoint (`partial`) is left alone. */
export function judgeOutcome(results: RunResults, metrics: MetricsSnapshot): JudgedOutcome {
  const { outcome, endReason } = results;
  if (outcome === 'partial' || outcome === 'failed') return { outcome, endReason, problem: null };
  const c = metrics.connections;
  // stopped before any device even tried: the stop is the story, not the target
  const stoppedEarly = outcome === 'aborted' && c.attempts === 0;
  if (c.succeeded === 0 && c.configured - c.paused > 0 && !stoppedEarly) {
    const top = dominantConnectFailure(c.byOutcome);
    const cause = top ? `${top.cause} (${top.count} of ${c.attempts} attempts)` : c.attempts > 0 ? NO_ANSWER : 'no connect attempt';
    const code: ErrorCode = top && top.cause.startsWith('refused:') ? 'MQTT_REFUSED' : 'NO_CONNECTION';
    const message = `No device connected to ${metrics.target.mqtt}: ${cause}`;
    const hint = top || c.attempts > 0 ? connectFailureHint(top?.cause ?? NO_ANSWER, metrics.target) : ERRORS.NO_CONNECTION.hint;
    return {
      outcome: 'failed',
      endReason: `${endReason}; no device connected: ${top?.cause ?? cause}`,
      problem: problem(code, message, hint),
    };
  }
  const http = metrics.workloads?.http;
  if (http && (http.sent as number) > 0 && metrics.traffic.acked === 0 && !stoppedEarly) {
    // every request answered, none accepted: a refusal the rows' connects (the pool) cannot show
    const top = Object.entries(http.byCause ?? {}).sort((a, b) => b[1] - a[1])[0];
    const cause = top ? `${top[0]} (${top[1]} of ${http.sent as number} requests)` : `no answer to ${http.sent as number} requests`;
    return {
      outcome: 'failed',
      endReason: `${endReason}; every HTTP request refused: ${top?.[0] ?? 'no answer'}`,
      problem: problem('HTTP_REFUSED', `No HTTP device request was accepted: ${cause}`),
    };
  }
  const idle = idleRoundTrips(metrics);
  if (idle && outcome === 'completed') {
    return {
      outcome: 'failed',
      endReason: `${endReason}; the ${idle} workload made no calls`,
      problem: problem('NO_CALLS', `The ${idle} workload made no calls: ${ERRORS.NO_CALLS.message.split(': ')[1]}`),
    };
  }
  const crashed = results.shards.filter((s) => s.state === 'crashed');
  if (crashed.length > 0 && outcome === 'completed') {
    const lost = crashed.reduce((a, s) => a + s.devices, 0);
    const which = crashed.map((s) => `shard ${s.id} (${s.exit ?? 'crashed'})`).join(', ');
    const message = `${which} crashed and took ${lost} of ${c.configured} devices with it; the other shards finished the run`;
    return {
      outcome: 'degraded',
      endReason: `${endReason}; ${crashed.length} shard(s) crashed`,
      problem: problem('RUN_DEGRADED', message),
    };
  }
  return { outcome, endReason, problem: null };
}
