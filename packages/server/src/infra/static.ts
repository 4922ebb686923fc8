import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fp from 'fastify-plugin';

const types: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Serves the few files in packages/server/src/public at /static/<name>. They are read once at
 * boot and kept in memory with an ETag: the set is tiny, and an explicit allowlist means no path
 * from a URL ever reaches the file system (no traversal to think about). @fastify/static would
 * pull in an ESM-only dependency (content-disposition) that Jest cannot require on Node 20.
 */
export const staticPlugin = fp<{ dir?: string }>(async (app, opts) => {
  const dir = opts.dir ?? path.join(__dirname, '..', 'public');
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(dir)) {
    const type = types[path.extname(name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, name));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  app.get<{ Params: { file: string } }>('/static/:file', {
    schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 100 } }, required: ['file'] } },
  }, async (req, reply) => {
    const f = files.get(req.params.file);
    if (!f) return reply.callNotFound();
    reply.header('cache-control', 'public, max-age=3600').header('etag', f.etag).type(f.type);
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.send(f.body);
  });
  // Browsers ask for /favicon.ico whatever the page says; answer with the same icon, not a 404.
  const icon = files.get('favicon.svg');
  if (icon) app.get('/favicon.ico', async (_req, reply) => reply.header('cache-control', 'public, max-age=86400').type(icon.type).send(icon.body));
}, { name: 'kassa-static' });
