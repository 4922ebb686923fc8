import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PluginRouteHandler } from '@kassa/core/host';
import { scriptOrigins, withoutForeignScriptNonces } from '../../src/infra/script-nonces';
import { createTestApp, type TestApp } from './test-app';

/*
 * A nonce lets a script run whatever its URL, so a template that puts the page's nonce on a
 * `<script src>` lets that URL decide what runs on Kassa's origin. External scripts are allowed by
 * the CSP's host list instead (the providers' origins, read at boot from instance-level settings);
 * only inline scripts carry the nonce. This holds for every template, the plugins' included.
 */
const root = path.resolve(__dirname, '../../../..');
const viewDirs = [path.join(root, 'packages/server/src/views'), ...readdirSync(path.join(root, 'plugins')).map((p) => path.join(root, 'plugins', p, 'views'))];

function templates(dir: string): string[] {
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((e) => {
    const full = path.join(dir, e);
    return statSync(full).isDirectory() ? templates(full) : full.endsWith('.eta') ? [full] : [];
  });
}

describe('templates never put the CSP nonce on an external script', () => {
  const files = viewDirs.flatMap(templates);

  it('finds the templates (the server\'s and the plugins\')', () => {
    expect(files.some((f) => f.includes('plugins/stripe/views/payment-element.eta'))).toBe(true);
    expect(files.some((f) => f.includes('packages/server/src/views/layouts/base.eta'))).toBe(true);
  });

  it.each(viewDirs.flatMap(templates).map((f) => [path.relative(root, f), f]))('%s', (_name, file) => {
    const tags = [...readFileSync(file, 'utf8').matchAll(/<script\b((?:<%[\s\S]*?%>|"[^"]*"|'[^']*'|[^>"'])*)>/g)].map((m) => m[1] as string);
    const external = tags.filter((attrs) => /\bsrc\s*=/.test(attrs));
    expect(external.filter((attrs) => /nonce/i.test(attrs))).toEqual([]);
  });
});

describe('the runtime guard: a nonce never vouches for a script from a host the CSP does not list', () => {
  const allowed = scriptOrigins('https://tickets.example', ["'self'", 'https://js.stripe.com', "'nonce-abc'"]);

  it('strips the nonce of a foreign <script src>, keeps it on inline, same-origin and listed scripts', () => {
    const html = [
      '<script src="https://evil.example/x.js" nonce="abc"></script>',
      "<script nonce='abc' src='https://js.stripe.com/v3/'></script>",
      '<script src="/static/app.js" nonce="abc"></script>',
      '<script nonce="abc">inline()</script>',
      '<SCRIPT SRC=//evil.example/y.js NONCE=abc></SCRIPT>',
      '<script src="https://js.stripe.com.evil.example/v3/" nonce="abc"></script>',
    ].join('');
    expect(withoutForeignScriptNonces(html, allowed, 'https://tickets.example')).toBe([
      '<script src="https://evil.example/x.js"></script>',
      "<script nonce='abc' src='https://js.stripe.com/v3/'></script>",
      '<script src="/static/app.js" nonce="abc"></script>',
      '<script nonce="abc">inline()</script>',
      '<SCRIPT SRC=//evil.example/y.js></SCRIPT>',
      '<script src="https://js.stripe.com.evil.example/v3/"></script>',
    ].join(''));
  });

  describe('on a plugin page whose template gets it wrong (through HTTP)', () => {
    let t: TestApp;
    const views = mkdtempSync(path.join(tmpdir(), 'kassa-rogue-views-'));

    beforeAll(async () => {
      writeFileSync(path.join(views, 'page.eta'), [
        '<script src="<%= it.scriptUrl %>" nonce="<%= it.cspNonce %>"></script>',
        '<script nonce="<%= it.cspNonce %>">document.title = "inline"</script>',
      ].join('\n'));
      const handler: PluginRouteHandler = async () => ({ status: 200, title: 'Rogue', view: { partial: 'rogue/page', data: { scriptUrl: 'https://evil.example/steal.js' } } });
      t = await createTestApp({}, {
        pluginViews: { rogue: views },
        pluginRoutes: [{ plugin: 'rogue', route: { method: 'GET', path: '/page', kind: 'shop', handler } }],
      });
    });
    afterAll(async () => {
      await t.close();
      rmSync(views, { recursive: true, force: true });
    });

    it('answers the page with the foreign script stripped of its nonce and the inline one keeping it', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/plugins/rogue/page' });
      expect(res.statusCode).toBe(200);
      const nonce = /script-src [^;]*'nonce-([^']+)'/.exec(String(res.headers['content-security-policy']))?.[1];
      expect(nonce).toBeTruthy();
      expect(res.body).toContain('<script src="https://evil.example/steal.js"></script>');
      expect(res.body).toContain(`<script nonce="${nonce}">document.title`);
    });
  });
});
