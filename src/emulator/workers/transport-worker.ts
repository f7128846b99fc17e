// One MQTT transport worker of `tblab emulator --workers N` (a process of its own, started by
// transport-pool.ts): it listens on one MQTT port and holds the client sockets — the open files that
// a single process would run out of — and relays their bytes to the front over fd 3. Everything
// MQTT means (CONNECT, authentication, PUBLISH, PUBACK, faults, limits) happens in the front, so a
// PUBACK only ever leaves after the front stored the message. Usage: transport-worker.js <host> <port>.
import net from 'node:net';
import { F, FrameReader, FrameWriter } from './wire.js';

const [host, portArg] = process.argv.slice(2);
const link = new net.Socket({ fd: 3, readable: true, writable: true });
const sockets = new Map<number, net.Socket>();
/** Sockets the front paused (stall fault); they stay paused when link backpressure ends. */
const frontPaused = new Set<number>();
let linkFull = false;
let nextConn = 1;

/** Bytes waiting for the front beyond which the worker stops reading its clients (TCP backpressure). */
const LINK_HIGH_WATER = 1 << 20;

const writer = new FrameWriter(link, () => {
  // the front reads slower than clients send: stop reading them until the link drains
  if (linkFull || link.writableLength < LINK_HIGH_WATER) return;
  linkFull = true;
  for (const s of sockets.values()) s.pause();
});
link.on('drain', () => {
  if (!linkFull) return;
  linkFull = false;
  for (const [id, s] of sockets) if (!frontPaused.has(id)) s.resume();
});

const server = net.createServer((socket) => {
  const id = nextConn;
  nextConn = nextConn >= 0xffffffff ? 1 : nextConn + 1;
  sockets.set(id, socket);
  socket.setNoDelay(true);
  writer.send(F.OPEN, id, `${socket.remoteAddress ?? ''}\n${socket.remotePort ?? 0}`);
  socket.on('data', (chunk: Buffer) => writer.send(F.DATA, id, chunk));
  socket.on('error', () => {}); // 'close' follows
  socket.on('close', () => {
    sockets.delete(id);
    frontPaused.delete(id);
    writer.send(F.CLOSE, id);
  });
  if (linkFull) socket.pause();
});

const reader = new FrameReader((type, id, payload) => {
  if (type === F.SHUTDOWN) return shutdown();
  const s = sockets.get(id);
  if (!s) return; // closed meanwhile
  switch (type) {
    case F.WRITE:
      // the payload is a view into the link's read buffer, which is not reused
      s.write(payload);
      return;
    case F.END:
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
      return;
    case F.DESTROY:
      s.destroy();
      return;
    case F.PAUSE:
      frontPaused.add(id);
      s.pause();
      return;
    case F.RESUME:
      frontPaused.delete(id);
      if (!linkFull) s.resume();
      return;
  }
});
link.on('data', (chunk: Buffer) => reader.push(chunk));
// the front is gone (closed, crashed or killed): nothing may outlive it
link.on('close', () => process.exit(0));
link.on('error', () => process.exit(0));

function shutdown(): void {
  server.close();
  for (const s of sockets.values()) s.destroy();
  writer.flush();
  link.end(() => process.exit(0));
}

// the worker's resource use, for the front's stats (RSS per connection, CPU per message)
setInterval(() => {
  const cpu = process.cpuUsage();
  writer.send(F.STATS, 0, JSON.stringify({ rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system, sockets: sockets.size }));
}, 1000).unref();

server.on('error', (e: NodeJS.ErrnoException) => {
  writer.send(F.FAILED, 0, JSON.stringify({ code: e.code ?? 'ERROR', message: e.message }));
  writer.flush();
  link.end(() => process.exit(1));
});
server.listen({ host, port: Number(portArg), backlog: 4096 }, () => {
  writer.send(F.READY, 0, JSON.stringify({ port: (server.address() as net.AddressInfo).port }));
});
