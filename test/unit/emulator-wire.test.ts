// The front ↔ transport-worker frame protocol (src/emulator/workers/wire.ts): frames survive any
// split of the byte stream, and one event-loop turn's frames leave in one write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { F, FrameReader, FrameWriter } from '../../src/emulator/workers/wire.js';

function sink() {
  const writes: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
  });
  return { out, writes };
}

test('one turn of frames is one write; the reader gets them back whole from any split of the bytes', async () => {
  const { out, writes } = sink();
  const w = new FrameWriter(out);
  const big = Buffer.alloc(200_000, 7); // larger than the 64 KB stage: it grows
  w.send(F.OPEN, 1, '127.0.0.2\n40000');
  w.send(F.DATA, 1, Buffer.from([0x30, 0x02, 0, 0]));
  w.send(F.DATA, 0xffffffff, big);
  w.send(F.CLOSE, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1, 'batched into one write');
  const bytes = writes[0];
  assert.equal(bytes.length, 4 * 9 + 15 + 4 + big.length);
  for (const step of [1, 2, 9, 10, 4096, bytes.length]) {
    const got: Array<[number, number, string]> = [];
    const r = new FrameReader((type, conn, payload) =>
      got.push([type, conn, payload.length > 16 ? `${payload.length}` : payload.toString('hex')]),
    );
    for (let i = 0; i < bytes.length; i += step) r.push(bytes.subarray(i, i + step));
    assert.deepEqual(
      got,
      [
        [F.OPEN, 1, Buffer.from('127.0.0.2\n40000').toString('hex')],
        [F.DATA, 1, '30020000'],
        [F.DATA, 0xffffffff, String(big.length)],
        [F.CLOSE, 1, ''],
      ],
      `split every ${step} bytes`,
    );
  }
});

test('a closed writer drops what is sent afterwards; the next turn writes a new batch', async () => {
  const { out, writes } = sink();
  const w = new FrameWriter(out);
  w.send(F.WRITE, 3, Buffer.from('a'));
  await new Promise((r) => setImmediate(r));
  w.send(F.WRITE, 3, Buffer.from('b'));
  await new Promise((r) => setImmediate(r));
  w.close();
  w.send(F.WRITE, 3, Buffer.from('c'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    writes.map((b) => b.subarray(9).toString()),
    ['a', 'b'],
  );
});
