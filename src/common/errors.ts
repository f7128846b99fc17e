// The one catalogue of failures: stable code, default message, hint for the operator, and the
// exit-code class the CLI turns it into. Only src/cli/main.ts exits the process.

/** Process exit codes (documented in docs/errors.md; scripts depend on them). */
export const ExitCode = {
  OK: 0,
  /** Unexpected internal failure (a bug): the message and stack are printed. */
  INTERNAL: 1,
  /** Bad .env / flag / scenario / credentials: fix the input and run again. */
  INVALID_CONFIG: 2,
  /** The target (REST or MQTT) could not be reached at all. */
  UNREACHABLE: 3,
  /** The target answered but refused the work after retries (HTTP 4xx/5xx, CONNACK refusals, …). */
  TARGET_ERROR: 4,
  /** The run completed but one or more --threshold expressions failed. */
  THRESHOLDS_FAILED: 5,
  /** A pre-flight check found something that would stop the run (open files, ports, memory). */
  PREFLIGHT_FAILED: 6,
  /** The run finished, but a shard crashed and took part of the fleet with it (outcome `degraded`). */
  DEGRADED: 7,
  /** `tblab limit`: every step passed — the limit is above --to (docs/limit.md). */
  LIMIT_ABOVE_RANGE: 8,
  /** `tblab limit`: the first step already failed — the limit is below --from (docs/limit.md). */
  LIMIT_BELOW_RANGE: 9,
  /** Stopped by SIGINT/SIGTERM or `tblab stop`; the report was still written. */
  ABORTED: 130,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

interface CatalogueEntry {
  readonly message: string;
  readonly hint: string;
  readonly exit: ExitCodeName;
}

/** Every error the lab raises on purpose. Codes are stable: never rename, only add. */
export const ERRORS = {
  CONFIG_INVALID: {
    message: 'Invalid configuration',
    hint: 'Fix the keys named above in .env, the environment, the scenario file or the flags.',
    exit: 'INVALID_CONFIG',
  },
  CONFIG_FILE_UNREADABLE: {
    message: 'A configuration file could not be read',
    hint: 'Check the path and its permissions.',
    exit: 'INVALID_CONFIG',
  },
  USAGE: { message: 'Invalid command line', hint: 'Run `tblab <command> --help` for the accepted flags.', exit: 'INVALID_CONFIG' },
  AUTH_FAILED: {
    message: 'ThingsBoard refused the login',
    hint: 'Check TB_USERNAME / TB_PASSWORD (tenant administrator credentials).',
    exit: 'INVALID_CONFIG',
  },
  PERMISSION_DENIED: {
    message: 'ThingsBoard refused the operation (403)',
    hint: 'Use a tenant administrator account (authority TENANT_ADMIN).',
    exit: 'INVALID_CONFIG',
  },
  TARGET_UNREACHABLE: {
    message: 'The target could not be reached',
    hint: 'Check the URL/host and port, that ThingsBoard is running, and any proxy settings (HTTP_PROXY, NO_PROXY).',
    exit: 'UNREACHABLE',
  },
  TARGET_TIMEOUT: {
    message: 'The target did not answer in time',
    hint: 'The server may be overloaded; raise REST_TIMEOUT_MS or lower PROVISION_CONCURRENCY.',
    exit: 'UNREACHABLE',
  },
  RATE_LIMITED: {
    message: 'ThingsBoard kept answering 429 (too many requests)',
    hint: "Lower PROVISION_CONCURRENCY, or raise the tenant profile's REST rate limits.",
    exit: 'TARGET_ERROR',
  },
  SERVER_ERROR: {
    message: 'ThingsBoard answered with a server error',
    hint: 'Look at the ThingsBoard log around this time; retry later.',
    exit: 'TARGET_ERROR',
  },
  REQUEST_REJECTED: { message: 'ThingsBoard rejected the request', hint: 'The server message above says why.', exit: 'TARGET_ERROR' },
  NOT_FOUND: { message: 'Not found on the server', hint: 'Check the id or name; the entity may have been deleted.', exit: 'TARGET_ERROR' },
  MQTT_REFUSED: {
    message: 'The MQTT server refused the connection',
    hint: 'Check that the device tokens belong to this server (re-run `tblab provision`).',
    exit: 'TARGET_ERROR',
  },
  HTTP_REFUSED: {
    message: 'Every HTTP device request was refused: the run delivered no load',
    hint: "workloads.http.byCause in the report names the answers: 401 = tokens of another server (run `tblab provision`), 413 = payload over the server's transport.http.max_payload_size, 5xx/429 = the server or a proxy refusing load; check HTTP_URL.",
    exit: 'TARGET_ERROR',
  },
  NO_CONNECTION: {
    message: 'No device could connect over MQTT: the run delivered no load',
    hint: 'Check MQTT_HOST, MQTT_PORT and MQTT_TLS (with MQTT_CA_FILE for a private CA); the report names the connect failure.',
    exit: 'UNREACHABLE',
  },
  NO_CALLS: {
    message: 'A round-trip workload (rpc, attributes) made no calls: the run delivered none of its load',
    hint: 'The calls need the tenant login (TB_URL, TB_USERNAME, TB_PASSWORD; the run log says why it failed) and devices whose subscriptions were granted (`skipped` counts calls due while none was ready).',
    exit: 'TARGET_ERROR',
  },
  RUN_DEGRADED: {
    message: 'A shard crashed and took part of the fleet with it',
    hint: 'The report counts its devices up to the crash; the supervisor notes say how it ended (memory: fewer devices per shard with --max-clients-per-process).',
    exit: 'DEGRADED',
  },
  NO_FLEET: {
    message: 'No provisioned devices were found',
    hint: 'Run `tblab provision` first (or `tblab suite`, which provisions when needed).',
    exit: 'INVALID_CONFIG',
  },
  PREFLIGHT_FAILED: {
    message: 'The generator cannot carry this run on this machine',
    hint: 'See the failed checks above: more processes (--max-clients-per-process), more source addresses (--source-addresses), or fewer devices.',
    exit: 'PREFLIGHT_FAILED',
  },
  THRESHOLDS_INVALID: {
    message: 'A --threshold expression is invalid',
    hint: 'See the grammar in docs/thresholds.md or `tblab run --help`.',
    exit: 'INVALID_CONFIG',
  },
  THRESHOLDS_FAILED: {
    message: 'One or more thresholds failed',
    hint: 'The table above shows which, with the measured value.',
    exit: 'THRESHOLDS_FAILED',
  },
  RUN_NOT_FOUND: { message: 'No such run report', hint: 'List reports in data/runs/ or use `latest`.', exit: 'INVALID_CONFIG' },
  REPORT_INVALID: {
    message: 'The report file is not a tb-load-lab report',
    hint: 'Check the path; reports are data/runs/<run-id>.json.',
    exit: 'INVALID_CONFIG',
  },
  ALREADY_RUNNING: {
    message: 'Another lab is running with the same pid file',
    hint: 'Stop it with `tblab stop`, or give this run its own SIM_PID_FILE / --instance.',
    exit: 'INVALID_CONFIG',
  },
  NOT_RUNNING: { message: 'No running lab was found', hint: 'The pid file is missing or stale.', exit: 'INVALID_CONFIG' },
  STOP_TIMEOUT: {
    message: 'The lab did not stop in time',
    hint: 'It may still be writing its report: run `tblab stop` again, or `kill -9 <pid>` (the last checkpoint of the report remains: every 5 s, every 20 s at 100,000 devices).',
    exit: 'INTERNAL',
  },
  CONFIRMATION_REQUIRED: {
    message: 'This deletes devices on the server',
    hint: 'Add --yes to confirm, or --dry-run to see what would be deleted.',
    exit: 'INVALID_CONFIG',
  },
  ABORTED: { message: 'Stopped by request', hint: 'The report of what happened until the stop was written.', exit: 'ABORTED' },
  PORT_IN_USE: {
    message: 'A listening port is already in use',
    hint: 'Pick another port (0 = any free port) or stop the process that holds it.',
    exit: 'INVALID_CONFIG',
  },
  MERGE_CONFLICT: {
    message: 'The instance reports cannot be merged',
    hint: 'Merge the reports of one run split with --instance i/N over one fleet: same N, each instance once, each device in exactly one slice.',
    exit: 'INVALID_CONFIG',
  },
  INTERNAL: { message: 'Internal error', hint: 'This is a bug in tb-load-lab; please report it with the stack trace.', exit: 'INTERNAL' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

export interface LabErrorOptions {
  /** Replaces the catalogue's default message (keep it specific: name the key, URL, device…). */
  message?: string;
  /** Replaces the catalogue's hint. */
  hint?: string;
  cause?: unknown;
  /** Structured details (never secrets): shown with --json, kept in reports. */
  details?: Record<string, unknown>;
}

/** An expected failure with a stable code. Throw it; the CLI prints `message` + `hint` and exits. */
export class LabError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, opts: LabErrorOptions = {}) {
    const entry: CatalogueEntry = ERRORS[code];
    super(opts.message ?? entry.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LabError';
    this.code = code;
    this.hint = opts.hint ?? entry.hint;
    this.exitCode = ExitCode[entry.exit];
    this.details = opts.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      exitCode: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isLabError(e: unknown): e is LabError {
  return e instanceof LabError;
}

/** Message of any thrown value, with the Node error code when present (ECONNREFUSED…). */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const base = code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error && !base.includes(cause.message) ? `${base} (${describeError(cause)})` : base;
  }
  return String(e);
}
