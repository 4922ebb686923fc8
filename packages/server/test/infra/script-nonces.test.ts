import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

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
