// Control files shared by `tblab devices` (writer) and a running lab (reader, reloaded live).

/** data/control/disabled_devices.json — devices paused by hand. Written atomically. */
export interface DisabledDevicesFile {
  version: 1;
  updatedAt: string;
  /** Device names that must not publish (and stay disconnected) while listed. */
  devices: string[];
}

/**
 * The paused names of a disabled-devices file: our `{"version":1,"devices":[…]}`, or the original
 * Python lab's plain array of names `["sim-001", …]`. Null when it is neither.
 */
export function disabledNames(json: unknown): string[] | null {
  const ours = typeof json === 'object' && json !== null && (json as { version?: unknown }).version === 1;
  const list = Array.isArray(json) ? json : ours ? (json as { devices?: unknown }).devices : null;
  return Array.isArray(list) && list.every((d) => typeof d === 'string') ? list : null;
}

/** data/control/tblab.pid (or tblab-<i>of<N>.pid for an instance) — JSON so `tblab stop` finds the control endpoint too. */
export interface PidFile {
  pid: number;
  runId: string;
  startedAt: string;
  instance: string | null;
  /** Dashboard base URL when one is listening, e.g. http://127.0.0.1:5050 */
  dashboardUrl: string | null;
  /** Path of the file holding the control token (mode 0600). */
  controlTokenFile: string | null;
}
