// The control token: a random secret written to <dataDir>/control/control-token (mode 0600,
// atomic) that `POST /api/control/stop` requires. The run prints it at start; `tblab stop` reads it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/fs.js';
import { LabError } from '../../common/errors.js';

export function controlTokenPath(dataDir: string): string {
  return join(dataDir, 'control', 'control-token');
}

/** Creates a fresh token (32 random bytes, base64url), writes it and returns it with the path. */
export function createControlToken(dataDir: string): { token: string; path: string } {
  const token = randomBytes(32).toString('base64url');
  const path = controlTokenPath(dataDir);
  writeFileAtomic(path, token + '\n', { mode: 0o600 });
  return { token, path };
}

export function readControlToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LabError('NOT_RUNNING', { message: `Cannot read the control token file ${path}`, cause: e });
  }
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token))
    throw new LabError('NOT_RUNNING', { message: `The control token file ${path} does not hold a token` });
  return token;
}
