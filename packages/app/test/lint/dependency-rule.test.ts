import { execFileSync } from 'node:child_process';
import path from 'node:path';

/*
 * The dependency rule of eslint.config.mjs, run through ESLint itself on probe sources placed (by
 * name only, nothing is written) in each package: the server and jobs may not import a plugin, the
 * emulator or the distribution; core may not import the distribution; the distribution may import
 * them all. ESLint loads its ESM config in a child process (Jest's module system cannot).
 */
const root = path.resolve(__dirname, '../../../..');

const forbiddenForServerAndJobs: [string, string][] = [
  ['packages/server/src/probe.ts', '@kassa/plugin-stripe'],
  ['packages/server/src/probe.ts', '@kassa/stripe-emulator'],
  ['packages/server/src/probe.ts', '@kassa/app'],
  ['packages/server/src/shop/probe.ts', '../../../../plugins/stripe/src'],
  ['packages/server/test/probe.test.ts', '@kassa/plugin-stripe'],
  ['packages/jobs/src/probe.ts', '@kassa/plugin-stripe'],
  ['packages/jobs/src/probe.ts', '@kassa/stripe-emulator'],
  ['packages/jobs/src/probe.ts', '@kassa/app'],
];
const forbiddenForCore: [string, string][] = [['packages/core/src/probe.ts', '@kassa/app']];
const allowed: [string, string][] = [
  ['packages/server/src/probe.ts', '@kassa/core/host'],
  ['packages/jobs/src/probe.ts', '@kassa/core'],
  ['packages/app/src/probe.ts', '@kassa/plugin-stripe'],
  ['packages/app/src/probe.ts', '@kassa/stripe-emulator'],
];

let reported: Map<string, string[]>;

beforeAll(() => {
  const probes = [...forbiddenForServerAndJobs, ...forbiddenForCore, ...allowed].map(([file, spec]) => ({
    file, spec, text: `import * as probe from '${spec}';\nexport const used = probe;\n`,
  }));
  const script = `
    const { ESLint } = require('eslint');
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const probes = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const out = [];
      for (const p of probes) {
        const [result] = await eslint.lintText(p.text, { filePath: p.file });
        out.push({ key: p.file + ' ' + p.spec, messages: result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message) });
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((err) => { console.error(err); process.exit(2); });`;
  const stdout = execFileSync(process.execPath, ['-e', script], { cwd: root, input: JSON.stringify(probes), encoding: 'utf8' });
  reported = new Map((JSON.parse(stdout) as { key: string; messages: string[] }[]).map((r) => [r.key, r.messages]));
}, 60_000);

const messagesFor = (file: string, spec: string) => reported.get(`${file} ${spec}`);

describe('dependency rule (lint)', () => {
  it.each(forbiddenForServerAndJobs)('%s may not import %s', (file, spec) => {
    expect(messagesFor(file, spec)).toEqual([expect.stringMatching(/only through the plugin contract/)]);
  });

  it.each(forbiddenForCore)('%s may not import %s', (file, spec) => {
    expect(messagesFor(file, spec)).toEqual([expect.stringMatching(/core depends on no other Kassa package/)]);
  });

  it.each(allowed)('%s may import %s', (file, spec) => {
    expect(messagesFor(file, spec)).toEqual([]);
  });
});
