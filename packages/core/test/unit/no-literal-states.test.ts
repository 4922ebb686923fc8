import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { orderStates, paymentStates, refundStates } from '@kassa/core/host';

/*
 * Keeps literal status checks out: code asks the machines' named sets (`orderMachine.is('paid', s)`,
 * `paymentMachine.sqlIn('counting', 'p.state')`), never compares a status or state with a state
 * name, and never spells a list of states in SQL. Allowed: the machine files, which define the
 * states and sets, and the migrations that shipped before the sets existed.
 */

const repo = resolve(__dirname, '../../../..');

/** Where the scan looks, relative to the repository root. The integrator extends this to every package. */
export const scannedRoots = ['packages/core/src', 'packages/server/src', 'packages/jobs/src', 'packages/app/src', 'plugins/banktransfer/src', 'plugins/stripe/src', 'packages/testing/src/conformance'];

/** Migrations from before this guard keep their hand-written lists (a shipped migration never changes). */
const firstGuardedMigration = 1766000000000;

const stateNames = [...new Set<string>([...orderStates, ...paymentStates, ...refundStates])];
const name = `(?:${stateNames.join('|')})`;
const quoted = `['"\`]${name}['"\`]`;
const subject = String.raw`\b(?:status|state|orderStatus|paymentState|refundState)\b`;

/** The patterns that count as a literal status check, with what each catches. */
const patterns: { what: string; re: RegExp }[] = [
  { what: 'comparison with ===/!==/==/!=', re: new RegExp(String.raw`${subject}\s*[!=]==?\s*${quoted}`) },
  { what: 'comparison written the other way round', re: new RegExp(String.raw`${quoted}\s*[!=]==?\s*[\w.?]*${subject}`) },
  { what: 'SQL comparison (= or <>)', re: new RegExp(String.raw`${subject}\s*(?:=|<>)\s*'${name}'`) },
  { what: 'SQL state list (IN / NOT IN)', re: new RegExp(String.raw`${subject}\s+(?:NOT\s+)?IN\s*\(\s*'${name}'`, 'i') },
  { what: 'SQL state list (= ANY)', re: new RegExp(String.raw`${subject}\s*=\s*ANY\s*\(\s*(?:ARRAY\s*\[\s*)?'${name}'`, 'i') },
];

export interface Finding { file: string; line: number; what: string; text: string }

/** The literal status checks in one source text. */
export function scanSource(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  source.split('\n').forEach((text, i) => {
    for (const p of patterns) if (p.re.test(text)) findings.push({ file, line: i + 1, what: p.what, text: text.trim() });
  });
  return findings;
}

function exempt(path: string): boolean {
  if (/\.machine\.ts$/.test(path)) return true;
  const migration = /\/migrations\/(\d{13})-[^/]+\.ts$/.exec(path);
  return migration !== null && Number(migration[1]) < firstGuardedMigration;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|eta)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Scans every source file under the roots (absolute, or relative to `base`). */
export function scanRoots(roots: readonly string[], base: string = repo): Finding[] {
  return roots.flatMap((root) => sourceFiles(resolve(base, root)))
    .filter((path) => !exempt(path))
    .flatMap((path) => scanSource(relative(base, path), readFileSync(path, 'utf8')));
}

describe('no literal status checks outside the machine files', () => {
  it(`finds none in ${scannedRoots.join(', ')}`, () => {
    const findings = scanRoots(scannedRoots);
    expect(findings.map((f) => `${f.file}:${f.line} ${f.what}: ${f.text}`)).toEqual([]);
  });

  it('catches a planted example of every kind', () => {
    const planted = [
      `if (order.status === 'paid') return;`,
      `if (payment.state !== "confirmed") throw err;`,
      `if ('pending' === order.status) go();`,
      "const sql = `SELECT 1 FROM kassa_order o WHERE o.status = 'canceled'`;",
      "const sql = `SUM(p.amount) FILTER (WHERE p.state IN ('confirmed', 'refunded'))`;",
      "const sql = `WHERE r.state NOT IN ('external')`;",
      "const sql = `WHERE state = ANY(ARRAY['created', 'pending'])`;",
    ];
    const found = scanSource('planted.ts', planted.join('\n'));
    expect(found.map((f) => f.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('lets set questions, bound parameters and other words through', () => {
    const fine = [
      `if (orderMachine.is('paid', order.status)) return;`,
      "const sql = `WHERE ${paymentMachine.sqlIn('counting', 'p.state')} AND o.status = $2`;",
      `if (answer.status === 'I') release();`,
      `if (outcome.kind === 'pending') wait();`,
      `const refund = { state: 'created', amount };`,
    ];
    expect(scanSource('fine.ts', fine.join('\n'))).toEqual([]);
  });

  it('scans a configurable list of roots and skips machine files and shipped migrations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kassa-literal-states-'));
    try {
      writeFileSync(join(dir, 'service.ts'), `export const bad = (s: string) => s === 'x' || status === 'expired';\n`);
      writeFileSync(join(dir, 'order.machine.ts'), `export const ok = (status: string) => status === 'paid';\n`);
      const migrations = join(dir, 'migrations');
      mkdirSync(migrations);
      writeFileSync(join(migrations, '1764000000000-old.ts'), "const sql = `o.status IN ('pending', 'paid')`;\n");
      writeFileSync(join(migrations, '1766000000001-new.ts'), "const sql = `o.status IN ('pending', 'paid')`;\n");
      const findings = scanRoots([dir]);
      expect(findings.map((f) => `${f.file}:${f.line}`).sort()).toEqual([
        `${relative(repo, join(migrations, '1766000000001-new.ts'))}:1`, `${relative(repo, join(dir, 'service.ts'))}:1`,
      ].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
