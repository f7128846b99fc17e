// The page and its assets, served by the lab itself (users run it in closed networks: no CDN).
// The UI is a handful of flat files, read once at start; uPlot comes from node_modules/uplot/dist.
import type { FastifyPluginAsync } from 'fastify';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** src/dashboard/ui/public, found from this module whether it runs from src/ or dist/src/. */
export function uiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'src', 'dashboard', 'ui', 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('dashboard UI files (src/dashboard/ui/public) not found next to the installed package');
}

interface Asset {
  body: Buffer;
  type: string;
}

function load(dir: string, names: string[]): Map<string, Asset> {
  const m = new Map<string, Asset>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type) m.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return m;
}

export const assetsPlugin: FastifyPluginAsync = async (app) => {
  const ui = uiDir();
  const files = load(ui, readdirSync(ui));
  const uplotDist = dirname(createRequire(import.meta.url).resolve('uplot'));
  const vendor = load(uplotDist, ['uPlot.esm.js', 'uPlot.min.css']);

  const send = (assets: Map<string, Asset>) => async (req: { params: unknown }, reply: import('fastify').FastifyReply) => {
    const asset = assets.get((req.params as { file: string }).file);
    if (!asset) return reply.code(404).send({ status: 404, message: 'Not found', timestamp: Date.now() });
    return reply.header('content-type', asset.type).header('cache-control', 'no-cache').send(asset.body);
  };

  app.get('/', async (_req, reply) => {
    const index = files.get('index.html')!;
    return reply
      .header('content-type', index.type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .send(index.body);
  });
  app.get('/ui/:file', send(files));
  app.get('/vendor/:file', send(vendor));
};
