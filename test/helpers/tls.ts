// A self-signed certificate for 127.0.0.1 (openssl), readable by mosquitto: the TLS tests' one way to
// make one. `hasOpenssl` says whether this machine can.
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Scope } from './cleanup.js';
import { tmpDir } from './tmp.js';

export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

export function selfSigned(t: Scope): { certFile: string; keyFile: string } {
  const dir = tmpDir(t, 'tblab-tls-');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  assert.equal(r.status, 0, 'openssl made a certificate');
  // mosquitto started as root drops to its own user before reading them
  chmodSync(dir, 0o755);
  chmodSync(keyFile, 0o644);
  return { certFile, keyFile };
}
