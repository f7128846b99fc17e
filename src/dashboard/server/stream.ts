// GET /api/stream: server-sent events. `snapshot` events carry the MetricsSnapshot JSON, at most
// one per refresh period and only when a new one was published (else a comment keeps the pipe
// open, so the page can tell stale data from a quiet stream); one `final` event when the run ends.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { SnapshotHub, HubEvent } from './hub.js';

export interface StreamOptions {
  hub: SnapshotHub;
  /** Push period, ms. */
  refreshMs: number;
}

interface Client {
  reply: FastifyReply;
  sentVersion: number;
  unsubscribe: () => void;
}

function frame(e: HubEvent): string {
  return e.kind === 'snapshot'
    ? `event: snapshot\ndata: ${JSON.stringify(e.snapshot)}\n\n`
    : `event: final\ndata: ${JSON.stringify(e.final)}\n\n`;
}

export const streamPlugin: FastifyPluginAsync<StreamOptions> = async (app, { hub, refreshMs }) => {
  const clients = new Set<Client>();

  const drop = (c: Client) => {
    if (!clients.delete(c)) return;
    c.unsubscribe();
    c.reply.raw.end();
  };

  const push = (c: Client) => {
    const snap = hub.latest;
    if (snap && hub.version !== c.sentVersion) {
      c.sentVersion = hub.version;
      c.reply.raw.write(frame({ kind: 'snapshot', snapshot: snap }));
    } else {
      c.reply.raw.write(': keep-alive\n\n');
    }
  };

  const timer = setInterval(() => {
    for (const c of clients) push(c);
  }, refreshMs);
  timer.unref();

  app.get('/api/stream', (req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: ${refreshMs}\n\n`);
    const c: Client = { reply, sentVersion: -1, unsubscribe: () => {} };
    c.unsubscribe = hub.subscribe((e) => {
      if (e.kind === 'snapshot') c.sentVersion = hub.version;
      reply.raw.write(frame(e));
    });
    clients.add(c);
    push(c);
    if (hub.final) reply.raw.write(frame({ kind: 'final', final: hub.final }));
    req.raw.on('close', () => drop(c));
  });

  // SSE responses never finish on their own: end them, or close() would wait forever
  app.addHook('preClose', async () => {
    clearInterval(timer);
    for (const c of [...clients]) drop(c);
  });
};
