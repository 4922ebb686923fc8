import { verifyPassword } from '@kassa/server';
import { cliSandbox, type CliSandbox } from './run-cli';

/* `pnpm kassa create-operator` and `create-organizer` on a real schema (the first call migrates it, as start-up would). */
let sandbox: CliSandbox;
beforeAll(async () => {
  sandbox = await cliSandbox();
});
afterAll(async () => {
  await sandbox?.destroy();
});

type UserRow = { email: string; password_hash: string; is_operator: boolean; name: string };
const users = () => sandbox.query<UserRow>('SELECT email, password_hash, is_operator, name FROM app_user ORDER BY email');

it('creates an operator with a password from stdin, or a generated one it prints once; an existing login becomes an operator', async () => {
  // As the operator runs it: a process on the entry point, the password piped into its stdin.
  const piped = await sandbox.spawn(['create-operator', 'olga@example.org', '--name', 'Olga', '--password-stdin'], { input: 'correct horse battery\n' });
  expect(piped).toMatchObject({ code: 0 });
  expect(piped.stdout).toContain('created the login olga@example.org; it is an instance operator');
  expect(piped.stdout).not.toContain('password:');
  const [olga] = await users();
  expect(olga).toMatchObject({ email: 'olga@example.org', is_operator: true, name: 'Olga' });
  // The project's scrypt hash: the login form accepts exactly this password.
  expect(await verifyPassword('correct horse battery', olga!.password_hash)).toBe(true);

  // stdin is not a terminal: no prompt, a generated password.
  const generated = await sandbox.run(['create-operator', 'ops@example.org']);
  expect(generated).toMatchObject({ code: 0 });
  const password = /password: (\S+)/.exec(generated.stdout)?.[1];
  expect(password).toHaveLength(24);
  const ops = (await users()).find((u) => u.email === 'ops@example.org');
  expect(ops?.is_operator).toBe(true);
  expect(await verifyPassword(password!, ops!.password_hash)).toBe(true);

  await sandbox.query('UPDATE app_user SET is_operator = false WHERE email = $1', ['ops@example.org']);
  const again = await sandbox.run(['create-operator', 'OPS@example.org', '--password-stdin'], { input: 'another password\n' });
  expect(again).toMatchObject({ code: 0 });
  expect(again.stdout).toContain('password is unchanged');
  const after = (await users()).find((u) => u.email === 'ops@example.org');
  expect(after).toMatchObject({ is_operator: true, password_hash: ops!.password_hash });
}, 180_000);

it('refuses a bad e-mail address (usage, exit 2) and a short password (exit 1), writing nothing', async () => {
  const before = await users();
  const badEmail = await sandbox.run(['create-operator', 'not-an-address']);
  expect(badEmail.code).toBe(2);
  expect(badEmail.stderr).toContain('"not-an-address" is not an e-mail address');
  const short = await sandbox.run(['create-operator', 'new@example.org', '--password-stdin'], { input: 'short\n' });
  expect(short.code).toBe(1);
  expect(short.stderr).toContain('error: the password must have at least 10 characters');
  expect(await users()).toEqual(before);
}, 120_000);

it('creates an organizer with an admin team holding the given login; a taken slug or an unknown login is refused', async () => {
  const created = await sandbox.run(['create-organizer', 'Summer Fest e.V.', 'summer-fest', '--admin', 'olga@example.org']);
  expect(created).toMatchObject({ code: 0 });
  expect(created.stdout).toContain('created organizer "Summer Fest e.V." (/summer-fest/');
  expect(created.stdout).toContain('admin team "Administrators": olga@example.org');
  const teams = await sandbox.query<{ slug: string; name: string; is_admin: boolean; members: string[] }>(
    `SELECT o.slug, t.name, t.is_admin, array_agg(u.email) AS members FROM organizer o JOIN team t ON t.organizer_id = o.id
       JOIN team_member m ON m.team_id = t.id JOIN app_user u ON u.id = m.user_id GROUP BY o.slug, t.name, t.is_admin`);
  expect(teams).toEqual([{ slug: 'summer-fest', name: 'Administrators', is_admin: true, members: ['olga@example.org'] }]);

  const duplicate = await sandbox.run(['create-organizer', 'Another', 'summer-fest']);
  expect(duplicate.code).toBe(1);
  expect(duplicate.stderr).toContain('error: Invalid input: slug summer-fest is already used by another organizer');
  const unknownAdmin = await sandbox.run(['create-organizer', 'Winter Fest', 'winter-fest', '--admin', 'nobody@example.org']);
  expect(unknownAdmin.code).toBe(1);
  expect(unknownAdmin.stderr).toContain('error: User nobody@example.org not found');
  expect(await sandbox.query('SELECT slug FROM organizer')).toEqual([{ slug: 'summer-fest' }]);
  expect(await sandbox.query('SELECT count(*)::int AS n FROM team')).toEqual([{ n: 1 }]);
}, 180_000);
