import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/*
 * Each package queries only its own tables: core's tables are read and written only in
 * packages/core/src/persistence/ (the kernel), so no other package and no other folder of core
 * holds SQL or a TypeORM repository for them. Allowed besides the kernel: core's migrations and
 * the embedded database, and the test harness (packages/testing), which asserts on rows.
 */

const repo = resolve(__dirname, '../../../..');

/** Core's tables and the entity classes mapped onto them. */
export const coreTables = [
  'organizer', 'app_user', 'team', 'team_members', 'api_token', 'event', 'product', 'quota', 'quota_products', 'quota_usage',
  'kassa_order', 'order_position', 'order_fee', 'order_payment', 'order_refund', 'log_entry',
  'outbox_event', 'outbox_effect', 'outbox_delivery', 'email_message', 'setting', 'action_key', 'webhook_endpoint', 'webhook_delivery',
];
const coreEntities = [
  'Organizer', 'User', 'Team', 'ApiToken', 'Event', 'Product', 'Quota', 'Order', 'OrderPosition', 'OrderFee', 'OrderPayment',
  'OrderRefund', 'LogEntry', 'OutboxEvent', 'OutboxEffect', 'OutboxDelivery', 'EmailMessage', 'Setting',
];

const tableRe = new RegExp(String.raw`\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+(?:ONLY\s+)?"?(${coreTables.join('|')})"?\b`);
const entityRe = new RegExp(String.raw`\b(?:getRepository|findOneBy|existsBy|\.find|\.save|\.insert|\.update|\.delete|\.count|createQueryBuilder)\s*\(\s*(${coreEntities.join('|')})\b`);

const roots = ['packages/core/src', 'packages/server/src', 'packages/jobs/src', 'packages/app/src', 'plugins'];

function exempt(path: string): boolean {
  return /packages\/core\/src\/(persistence|db\/migrations|db\/embedded)\//.test(path)
    || /\/(test|bench|node_modules|dist|dist-types)\//.test(path);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'dist-types') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.ts$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

export function scanForCoreTables(source: string): string[] {
  const found: string[] = [];
  source.split('\n').forEach((line, i) => {
    const m = tableRe.exec(line) ?? entityRe.exec(line);
    if (m) found.push(`${i + 1}: ${m[0]}`);
  });
  return found;
}

describe('core\'s tables are queried only by core\'s persistence kernel', () => {
  it('finds no SQL or repository for a core table outside packages/core/src/persistence', () => {
    const files = roots.flatMap((root) => sourceFiles(resolve(repo, root))).filter((path) => !exempt(path));
    for (const root of roots) expect(files.some((f) => relative(repo, f).startsWith(root))).toBe(true);
    const findings = files
      .flatMap((path) => scanForCoreTables(readFileSync(path, 'utf8')).map((f) => `${relative(repo, path)}:${f}`));
    expect(findings).toEqual([]);
  });

  it('catches SQL and repository calls on a core table, and lets a plugin\'s own tables through', () => {
    expect(scanForCoreTables('await tx.query(`UPDATE order_payment SET info = $2 WHERE id = $1`)')).toHaveLength(1);
    expect(scanForCoreTables("await ds.query('SELECT id FROM kassa_order o JOIN event e ON e.id = o.event_id')")).toHaveLength(1);
    expect(scanForCoreTables('INSERT INTO log_entry (action) VALUES ($1)')).toHaveLength(1);
    expect(scanForCoreTables('await ds.getRepository(Organizer).count()')).toHaveLength(1);
    expect(scanForCoreTables("await rt.db.query('UPDATE stripe_account SET last_event_id = $2 WHERE id = $1')")).toEqual([]);
    expect(scanForCoreTables('const order = await rt.payments.get(paymentId); // the event it belongs to')).toEqual([]);
  });
});
