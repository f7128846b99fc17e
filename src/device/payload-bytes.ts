// Byte writers for the telemetry hot path. Number-to-string conversion and the string's copy
// into the packet were 1.5 of 2.2 µs per message (10k devices, this machine); writing digits
// directly costs ~0.3 µs (bench/README.md, Findings).
export const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Copies `b[from..to)` (default all of `b`) to `buf` at `off`; returns the end offset. */
export function putBytes(buf: Buffer, off: number, b: Uint8Array, from = 0, to = b.length): number {
  for (let k = from; k < to; k++) buf[off++] = b[k];
  return off;
}

/** Writes a non-negative integer below 2^31 with int arithmetic; `width` pads with zeros. */
export function putSmall(buf: Buffer, off: number, n: number, width: number): number {
  let end = off + 1;
  for (let p = 10; p <= n; p *= 10) end++;
  if (end - off < width) end = off + width;
  let k = end;
  while (k > off) {
    const q = (n / 10) | 0;
    buf[--k] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** Writes a non-negative integer (below 2^53) in decimal; returns the end offset. */
export function putUint(buf: Buffer, off: number, n: number): number {
  if (n < 0x80000000) return putSmall(buf, off, n, 1);
  // epoch milliseconds: high digits, then the low nine zero-padded, both in int arithmetic
  const hi = Math.floor(n / 1e9);
  return putSmall(buf, putUint(buf, off, hi), n - hi * 1e9, 9);
}

/** Writes `x` rounded to 2 decimals exactly as `String(Math.round(x * 100) / 100)` prints it. */
export function putFixed2(buf: Buffer, off: number, x: number): number {
  let c = Math.round(x * 100);
  if (c < 0) {
    buf[off++] = 45; // '-'
    c = -c;
  }
  const ip = Math.floor(c / 100);
  const f = c - ip * 100;
  off = putUint(buf, off, ip);
  if (f !== 0) {
    buf[off++] = 46; // '.'
    const d1 = (f / 10) | 0;
    buf[off++] = 48 + d1;
    if (f !== d1 * 10) buf[off++] = 48 + (f - d1 * 10);
  }
  return off;
}
