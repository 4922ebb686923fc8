import { cliSandbox, type CliSandbox } from './run-cli';

/* `pnpm kassa migrate`: the composition's combined migration list (core, shop, plugins), on a real schema. */
let sandbox: CliSandbox;
beforeAll(async () => {
  sandbox = await cliSandbox();
});
afterAll(async () => {
  await sandbox?.destroy();
});

const recorded = async () => (await sandbox.query<{ name: string }>(
  "SELECT name FROM kassa_migrations ORDER BY id")).map((r) => r.name);

it('lists pending migrations with --dry-run and changes nothing, applies them, then has nothing to apply', async () => {
  const dry = await sandbox.run(['migrate', '--dry-run']);
  expect(dry).toMatchObject({ code: 0 });
  // Core's first migration, the shop's and the Stripe plugin's: the same list start-up runs.
  expect(dry.stdout).toMatch(/0 applied, \d+ pending/);
  expect(dry.stdout).toContain('pending  InitialSchema1763700000000');
  expect(dry.stdout).toContain('pending  ShopSubmission1763800000000');
  expect(dry.stdout).toContain('pending  StripeInit1764100000000');
  expect(dry.stdout).toContain('pending  BankTransferInit1766500000000');
  expect(dry.stdout).toContain('dry run:');
  const [table] = await sandbox.query<{ exists: boolean }>("SELECT to_regclass('kassa_migrations') IS NOT NULL AS exists");
  expect(table?.exists).toBe(false);

  const pending = [...dry.stdout.matchAll(/pending {2}(\S+)/g)].map((m) => m[1]);
  const applied = await sandbox.run(['migrate']);
  expect(applied).toMatchObject({ code: 0 });
  expect(applied.stdout).toContain(`applied ${pending.length} migrations:`);
  // Progress on stderr (not a terminal here: one line per migration, numbered).
  expect(applied.stderr).toContain(`[${pending.length}/${pending.length}] `);
  expect(await recorded()).toEqual(pending);

  const again = await sandbox.run(['migrate']);
  expect(again).toMatchObject({ code: 0 });
  expect(again.stdout).toContain(`${pending.length} applied, 0 pending`);
  expect(again.stdout).toContain('nothing to apply');
}, 120_000);

it('fails with the reason and exit 1 when the database cannot be reached', async () => {
  const result = await sandbox.run(['migrate'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' } });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^error: .*ECONNREFUSED/m);
}, 60_000);
