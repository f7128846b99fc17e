// The value parsers of the configuration keys (src/config/keys.ts): each takes what a .env file, the
// environment, a scenario file or a flag gives (strings, numbers, booleans) and yields the typed value or
// an issue worded for the person who wrote it. Kept apart so the key table reads as a table.
import { z } from 'zod';
import { parseInstance } from '../common/fleet.js';
import { redactHost } from '../common/redact.js';

export const bool = z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: 'expected a boolean: 1/0, true/false, yes/no, on/off' });
  return z.NEVER;
});

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = typeof v === 'number' ? String(v) : v.trim().replace(/_/g, '');
    if (!/^-?\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    const n = Number(s);
    if (n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

export const num = (min: number, max = Number.MAX_VALUE) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : Number(v.trim());
    if (typeof v === 'string' && v.trim() === '') {
      ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}` });
      return z.NEVER;
    }
    if (!Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

export const str = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
export const optStr = str.transform((v) => (v === '' ? undefined : v));

export const httpUrl = str.transform((v, ctx) => {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return v.replace(/\/+$/, '');
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL such as http://127.0.0.1:8080' });
    return z.NEVER;
  }
});
export const optHttpUrl = str.transform((v, ctx) => {
  if (v === '') return undefined;
  const r = httpUrl.safeParse(v);
  if (r.success) return r.data;
  ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL such as http://127.0.0.1:8080, or empty' });
  return z.NEVER;
});

export const oneOf = <T extends string>(values: readonly T[]) =>
  str.transform((v, ctx) => {
    if ((values as readonly string[]).includes(v)) return v as T;
    ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}` });
    return z.NEVER;
  });

/** Comma-separated list of IPv4/IPv6 addresses (local source addresses for outgoing connections). */
export const addressList = str.transform((v, ctx) => {
  if (v === '') return [] as string[];
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out: string[] = [];
  for (const p of parts) {
    // a range like 127.0.0.2-127.0.0.9 expands on the last octet
    const m = /^(\d+\.\d+\.\d+\.)(\d+)-(?:\d+\.\d+\.\d+\.)?(\d+)$/.exec(p);
    if (m) {
      const a = Number(m[2]),
        b = Number(m[3]);
      if (a > b || b > 255) {
        ctx.addIssue({ code: 'custom', message: `bad address range ${p}` });
        return z.NEVER;
      }
      for (let i = a; i <= b; i++) out.push(`${m[1]}${i}`);
    } else if (/^\d+\.\d+\.\d+\.\d+$/.test(p) || p.includes(':')) out.push(p);
    else {
      ctx.addIssue({ code: 'custom', message: `expected IP addresses or ranges such as 127.0.0.2-127.0.0.9, got ${p}` });
      return z.NEVER;
    }
  }
  return out;
});

/** Optional whole number: empty = not set. */
export const optInt = (min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'string' && v.trim() === '') return undefined;
    const r = int(min, max).safeParse(v);
    if (r.success) return r.data;
    ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, or empty` });
    return z.NEVER;
  });

/** Optional number: empty = not set. */
export const optNum = (min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'string' && v.trim() === '') return undefined;
    const r = num(min, max).safeParse(v);
    if (r.success) return r.data;
    ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, or empty` });
    return z.NEVER;
  });

/** `i/N` (1-based i) — this instance's slice of the fleet. Empty = the whole fleet. */
export const instance = str.transform((v, ctx) => {
  if (v === '') return undefined;
  const parsed = parseInstance(v);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: 'expected i/N with 1 <= i <= N, e.g. 2/4' });
    return z.NEVER;
  }
  return parsed;
});

/**
 * MQTT_ENDPOINTS: `host:port,host:port,…` (IPv6 as `[::1]:1883`), or a list of such strings in a
 * scenario file. Empty = not set (MQTT_HOST/MQTT_PORT is the one endpoint).
 */
export const endpointList = z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).transform((v, ctx) => {
  const items = (Array.isArray(v) ? v.map(String) : v.split(',')).map((s) => s.trim()).filter(Boolean);
  const out: Array<{ host: string; port: number }> = [];
  const seen = new Set<string>();
  for (const item of items) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/@[\]]+)):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) {
      // an entry may carry credentials by mistake (user:pw@host): never echoed
      ctx.addIssue({
        code: 'custom',
        message: `expected host:port,host:port… (e.g. 127.0.0.1:1883,127.0.0.1:1884; IPv6 as [::1]:1883), got ${redactHost(item)}`,
      });
      return z.NEVER;
    }
    const host = m[1] ?? m[2];
    const key = `${host.toLowerCase()}:${port}`;
    if (seen.has(key)) {
      ctx.addIssue({ code: 'custom', message: `${item} is listed twice: list each endpoint once` });
      return z.NEVER;
    }
    seen.add(key);
    out.push({ host, port });
  }
  if (out.length > 64) {
    ctx.addIssue({ code: 'custom', message: `at most 64 endpoints, got ${out.length}` });
    return z.NEVER;
  }
  return out;
});
