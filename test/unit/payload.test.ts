import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TELEMETRY_KEYS, TelemetryPayload, TemplatePayload, createPayloadSource, putFixed2, putUint } from '../../src/device/payload.js';
import { LabError } from '../../src/common/errors.js';
import { tmpDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/cleanup.js';

const devices = [
  { name: 'sim-001', index: 1 },
  { name: 'sim-002', index: 2 },
];

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('telemetry payload: the original fields and units, valid JSON, no nulls, the given sequence and timestamp', () => {
  const p = new TelemetryPayload(devices);
  assert.equal(p.ascii, true);
  const m = JSON.parse(p.next(1, 7, 1700000000123));
  assert.deepEqual(Object.keys(m), [
    'timestamp',
    'device',
    'sequence',
    'temperature',
    'humidity',
    'battery',
    'cpu_usage_percent',
    'memory_usage_mb',
    'network_latency_ms',
    'status',
    'issue',
  ]);
  assert.equal(m.timestamp, '2023-11-14T22:13:20.123Z');
  assert.equal(m.device, 'sim-002');
  assert.equal(m.sequence, 7);
  for (let s = 1; s < 3000; s++) {
    const x = JSON.parse(p.next(s % 2, s, 1700000000000 + s * 37));
    assert.ok(
      Object.values(x).every((v) => v !== null),
      JSON.stringify(x),
    );
    assert.match(x.timestamp, ISO);
    assert.equal(x.timestamp, new Date(1700000000000 + s * 37).toISOString());
    assert.ok(['ok', 'warn', 'critical'].includes(x.status), x.status);
    assert.match(x.issue, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(Number.isInteger(x.humidity) && x.humidity >= 10 && x.humidity <= 95, String(x.humidity));
    assert.ok(x.battery >= 3.3 && x.battery <= 4.2, `battery ${x.battery} V`);
  }
});

test('telemetry payload: ISO time across day, year and epoch edges equals toISOString', () => {
  const p = new TelemetryPayload(devices);
  const edges = [Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2025, 9, 17, 20, 15, 32, 123), Date.UTC(2025, 11, 31, 23, 59, 59, 1)];
  for (const ts of [0, 999, 86_399_999, 86_400_000, ...edges]) {
    assert.equal(JSON.parse(p.next(0, 1, ts)).timestamp, new Date(ts).toISOString());
  }
});

test('telemetry payload: values walk within plausible bounds, in small steps', () => {
  const p = new TelemetryPayload(devices);
  let prev = JSON.parse(p.next(0, 1, 0));
  for (let s = 2; s < 2000; s++) {
    const m = JSON.parse(p.next(0, s, s));
    assert.ok(m.temperature >= 5 && m.temperature <= 45);
    assert.ok(m.humidity >= 10 && m.humidity <= 95);
    assert.ok(m.battery >= 3.3 && m.battery <= 4.2);
    assert.ok(m.cpu_usage_percent >= 0 && m.cpu_usage_percent <= 100);
    assert.ok(Math.abs(m.temperature - prev.temperature) <= 0.31);
    prev = m;
  }
});

test('template payload: {{timestamp:iso}} whole and inline; other formats are refused', () => {
  const t = new TemplatePayload({ at: '{{timestamp:iso}}', note: 'sent {{timestamp:iso}}', ms: '{{timestamp}}' }, devices);
  const iso = '2023-11-14T22:13:20.123Z';
  assert.deepEqual(JSON.parse(t.next(0, 1, 1700000000123)), { at: iso, note: `sent ${iso}`, ms: 1700000000123 });
  const invalid = (re: RegExp) => (e: unknown) => e instanceof LabError && e.code === 'CONFIG_INVALID' && re.test(e.message);
  assert.throws(() => new TemplatePayload({ a: '{{timestamp:unix}}' }, devices), invalid(/timestamp:iso/));
});

test('template payload: "$extends": "default" adds fields to the default telemetry', (t) => {
  const dir = tmpDir(t, 'tblab-payload-');
  const file = join(dir, 'extra.json');
  writeFileSync(file, JSON.stringify({ $extends: 'default', site: 'plant-{{index}}', firmware: '1.4.2', rssi: '{{int:-90:-40}}' }));
  const m = JSON.parse(createPayloadSource(devices, file).next(1, 3, 1700000000123));
  assert.deepEqual(Object.keys(m), [...TELEMETRY_KEYS, 'site', 'firmware', 'rssi']);
  assert.equal(m.timestamp, '2023-11-14T22:13:20.123Z');
  assert.equal(m.sequence, 3);
  assert.equal(m.site, 'plant-2');
  assert.ok(m.rssi >= -90 && m.rssi <= -40);
  writeFileSync(file, JSON.stringify({ $extends: 'default', battery: 3 }));
  const invalid = (e: unknown) => e instanceof LabError && e.code === 'CONFIG_INVALID' && /"battery"/.test(e.message);
  assert.throws(() => createPayloadSource(devices, file), invalid);
  writeFileSync(file, JSON.stringify({ $extends: 'seed', x: 1 }));
  assert.throws(
    () => createPayloadSource(devices, file),
    (e: unknown) => e instanceof LabError && /\$extends/.test(e.message),
  );
});

test('template payload: placeholders, numbers unquoted, text inline, everything else verbatim', () => {
  const t = new TemplatePayload(
    {
      ts: '{{timestamp}}',
      values: {
        seq: '{{sequence}}',
        dev: '{{device}}',
        idx: '{{index}}',
        label: 'unit {{index}} of "fleet"',
        t: '{{random:1:2}}',
        n: '{{int:3:3}}',
        w: '{{walk:10:20}}',
        mode: '{{choice:eco|boost}}',
        fixed: [1, true, null],
      },
    },
    devices,
  );
  const m = JSON.parse(t.next(1, 42, 1234));
  assert.deepEqual(
    { ...m, values: { ...m.values, t: 0, w: 0, mode: 0 } },
    {
      ts: 1234,
      values: { seq: 42, dev: 'sim-002', idx: 2, label: 'unit 2 of "fleet"', t: 0, n: 3, w: 0, mode: 0, fixed: [1, true, null] },
    },
  );
  assert.ok(m.values.t >= 1 && m.values.t <= 2);
  assert.ok(m.values.w >= 10 && m.values.w <= 20);
  assert.ok(['eco', 'boost'].includes(m.values.mode));
  assert.equal(t.ascii, true);
  assert.equal(new TemplatePayload({ x: 'température' }, devices).ascii, false);
});

test('template payload: unknown placeholders and unreadable files are clear errors', () => {
  assert.throws(
    () => new TemplatePayload({ a: '{{nope}}' }, devices),
    (e: unknown) => e instanceof LabError && /nope/.test(e.message),
  );
  assert.throws(() => new TemplatePayload({ a: '{{random:5:1}}' }, devices), /MIN <= MAX/);
  const dir = tmpDir(fileScope, 'tblab-payload-');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ nope');
  assert.throws(
    () => createPayloadSource(devices, bad),
    (e: unknown) => e instanceof LabError && e.message.includes(bad),
  );
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ s: '{{sequence}}' }));
  assert.equal(createPayloadSource(devices, good).next(0, 5, 0), '{"s":5}');
});

test('byte writers print numbers exactly as String() prints the rounded value', () => {
  const buf = Buffer.alloc(64);
  const cases = [0, 0.004, 0.005, 0.015, 1, 9.99, 9.995, 10, 21.5, 21.05, 100, 123.456, 1023.999, -0.004, -0.02, -3.14159, 45, 1e6 + 0.01];
  for (let k = 0; k < 20000; k++) cases.push((Math.random() - 0.2) * 1100);
  for (const x of cases) assert.equal(buf.toString('latin1', 0, putFixed2(buf, 0, x)), String(Math.round(x * 100) / 100), `fixed2 ${x}`);
  for (const n of [0, 7, 9, 10, 99, 100, 65535, 1_700_000_000_123, 2 ** 53 - 1])
    assert.equal(buf.toString('latin1', 0, putUint(buf, 0, n)), String(n));
});

test('telemetry payload: bytes written in place equal the string form, within the declared bound', () => {
  const p = new TelemetryPayload([
    { name: 'sim-001', index: 1 },
    { name: 'capteur "é"', index: 2 },
  ]);
  assert.equal(p.ascii, false);
  const buf = Buffer.alloc(p.maxBytes + 10);
  for (let s = 1; s < 500; s++) {
    const end = p.writeTo(buf, 10, s % 2, s, 1_700_000_000_000 + s);
    assert.ok(end - 10 <= p.maxBytes);
    const m = JSON.parse(buf.toString('utf8', 10, end));
    assert.equal(m.device, s % 2 ? 'capteur "é"' : 'sim-001');
    assert.equal(m.sequence, s);
  }
  // many messages share one millisecond: the cached timestamp bytes must follow every change
  for (const ts of [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 999, 999, 1_700_000_000_001]) {
    assert.equal(JSON.parse(buf.toString('utf8', 0, p.writeTo(buf, 0, 0, 1, ts))).timestamp, new Date(ts).toISOString());
  }
});
