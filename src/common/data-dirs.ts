// Where runs are kept under DATA_DIR: <DATA_DIR>/runs for a real server, and
// <DATA_DIR>/embedded/runs for the embedded emulator's runs (its data folder, src/lab/target.ts).
import { join } from 'node:path';

/** The embedded target's data folder. */
export const embeddedDataDir = (dataDir: string) => join(dataDir, 'embedded');

/** `file` (e.g. `latest.json`, `<run-id>.json`) in every runs folder of DATA_DIR, the real target's first. */
export function reportPathsFor(dataDir: string, file: string): string[] {
  return [join(dataDir, 'runs', file), join(embeddedDataDir(dataDir), 'runs', file)];
}
