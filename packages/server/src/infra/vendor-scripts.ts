import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fp from 'fastify-plugin';

/**
 * Third-party browser scripts served from our own origin (the CSP allows scripts from 'self' and
 * nonces only, never a CDN): Chart.js's UMD build for the dashboard chart. Chart.js uses neither
 * eval nor inline styles in markup, so it runs under the strict CSP. Read once at boot; the URL
 * carries the library's version so a new version is never served from a stale cache.
 */
export const vendorScripts = {
  chart: `/static/vendor/chart-${readVersion('chart.js')}.umd.min.js`,
} as const;

function readVersion(pkg: string): string {
  // chart.js's main file is dist/chart.cjs; its manifest is one folder up (its exports map hides it from require).
  const manifest = path.join(path.dirname(require.resolve(pkg)), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export const vendorScriptsPlugin = fp(async (app) => {
  const body = readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  app.get(vendorScripts.chart, async (req, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', etag).type('text/javascript; charset=utf-8');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(body);
  });
}, { name: 'kassa-vendor-scripts' });
