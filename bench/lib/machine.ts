// What the numbers were measured on: CPU, cores, memory, kernel, Node, mosquitto, the limits
// that cap connections (open files, ephemeral ports) and the load average around the run.
import { cpus, totalmem, release, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { findMosquitto } from './mosquitto.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGB: number;
  kernel: string;
  node: string;
  mosquitto: string | null;
  /** RLIMIT_NOFILE soft/hard of this process (generators inherit it). */
  openFilesLimit: string;
  /** net.ipv4.ip_local_port_range: ephemeral ports per (source address, destination). */
  ephemeralPorts: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  startedAt: string;
  gitCommit: string | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function tryRead(f: () => string): string | null {
  try {
    return f().trim();
  } catch {
    return null;
  }
}

export function describeMachine(): Machine {
  const bin = findMosquitto();
  // `mosquitto -h` prints its version first and exits non-zero
  const mosq = bin ? spawnSync(bin, ['-h'], { encoding: 'utf8' }).stdout : null;
  const limits = tryRead(() => readFileSync('/proc/self/limits', 'utf8'))
    ?.split('\n')
    .find((l) => l.startsWith('Max open files'));
  const ports = tryRead(() => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: round2(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    mosquitto: mosq?.split('\n')[0] ?? null,
    openFilesLimit: limits
      ? limits
          .split(/\s{2,}/)
          .slice(1, 3)
          .join(' / ')
      : 'unknown',
    ephemeralPorts: ports
      ? `${ports.replace(/\s+/, '-')} (${Number(ports.split(/\s+/)[1]) - Number(ports.split(/\s+/)[0]) + 1} ports)`
      : 'unknown',
    loadAvgStart: loadavg().map(round2),
    loadAvgEnd: [],
    startedAt: new Date().toISOString(),
    gitCommit: tryRead(() =>
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ),
  };
}
