// docs/errors.md, generated from the catalogue (scripts/gen-docs.mjs writes it; a unit test fails
// when the file and the catalogue disagree), so a code cannot exist without its documentation.
import { ERRORS, ExitCode, type ExitCodeName } from './errors.js';

const EXIT_MEANING: Record<ExitCodeName, string> = {
  OK: 'success',
  INTERNAL: 'internal error — a bug; the message and stack are printed',
  INVALID_CONFIG: 'invalid configuration, usage, credentials or input file',
  UNREACHABLE: 'the target (REST or MQTT) could not be reached; also a run in which no device connected (outcome `failed`)',
  TARGET_ERROR: 'the target answered but refused the work after retries; also a run whose every connect was refused (CONNACK)',
  THRESHOLDS_FAILED: 'a --threshold failed (or `compare --fail-on-worse` found B worse)',
  PREFLIGHT_FAILED: "a pre-flight check found something that would stop the run; `tblab limit`: the limit found is the lab's own",
  DEGRADED: 'the run finished, but a shard crashed and took part of the fleet with it (outcome `degraded`)',
  LIMIT_ABOVE_RANGE: '`tblab limit`: every step passed, the limit is above `--to` (raise it)',
  LIMIT_BELOW_RANGE: '`tblab limit`: the first step already failed, the limit is below `--from` (lower it)',
  ABORTED: 'stopped by SIGINT/SIGTERM or `tblab stop`; the report was still written',
};

export function renderErrorsDoc(): string {
  const exits = (Object.keys(ExitCode) as ExitCodeName[]).map((k) => `| ${ExitCode[k]} | \`${k}\` | ${EXIT_MEANING[k]} |`);
  const codes = Object.entries(ERRORS).map(
    ([code, e]) => `| \`${code}\` | ${ExitCode[e.exit]} | ${e.message} | ${e.hint.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Errors and exit codes',
    '',
    '<!-- Generated from src/common/errors.ts by `node scripts/gen-docs.mjs` (after `npx tsc -p .`). Do not edit by hand. -->',
    '',
    'Every failure the lab expects is printed as `error [CODE]: message` followed by `hint: …`; with',
    '`--json` the same error is also written to stdout as `{"error": {"code", "message", "hint", "exitCode", "details"}}`.',
    'Scripts should test the exit code; the codes below are stable (new ones may be added, none renamed).',
    '',
    '## Exit codes',
    '',
    '| exit | name | meaning |',
    '| --- | --- | --- |',
    ...exits,
    '',
    '## Run outcomes',
    '',
    "A finished `tblab run` or `tblab suite` exits by the report's `outcome` (docs/metrics-api.md):",
    '',
    '| outcome | exit | when |',
    '| --- | --- | --- |',
    '| `completed` | 0 (5 when a threshold failed) | the run ended as planned |',
    `| \`failed\` | ${ExitCode.UNREACHABLE} (\`NO_CONNECTION\`), ${ExitCode.TARGET_ERROR} (\`MQTT_REFUSED\`) | no device ever connected: ` +
      'the cause (e.g. `ECONNREFUSED`, `refused: not authorized (5)`, an untrusted certificate) is printed while the run goes ' +
      "and at its end, and kept in the report's `problem` with a hint naming `MQTT_HOST`/`MQTT_PORT`/`MQTT_TLS`/`MQTT_CA_FILE` |",
    `| \`failed\` | ${ExitCode.TARGET_ERROR} (\`HTTP_REFUSED\`) | HTTP devices sent requests and not one was answered 2xx ` +
      '(and no other workload delivered): the most frequent answer is named, all are in `workloads.http.byCause` |',
    `| \`failed\` | ${ExitCode.TARGET_ERROR} (\`NO_CALLS\`) | devices connected, but the \`rpc\` or \`attributes\` workload made no call (no REST login, no device ready) |`,
    `| \`failed\` | ${ExitCode.INTERNAL} | every shard crashed |`,
    `| \`degraded\` | ${ExitCode.DEGRADED} (\`RUN_DEGRADED\`) | a shard crashed and took part of the fleet with it; the others finished |`,
    `| \`aborted\` | ${ExitCode.ABORTED} | stopped by a signal or \`tblab stop\` (a run whose connect attempts all failed is \`failed\` even so) |`,
    '',
    '## Error codes',
    '',
    '| code | exit | message | hint |',
    '| --- | --- | --- | --- |',
    ...codes,
    '',
  ].join('\n');
}
