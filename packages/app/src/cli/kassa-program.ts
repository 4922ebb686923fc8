import {
  createOrganizerWithAdminTeam, createUser, findUserByEmail, isKassaError, loadConfig, type AppConfig, type DataSource,
} from '@kassa/core/host';
import { hashPassword, setOperator } from '@kassa/server';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { closerStack, openKassaDatabase } from '../compose-kassa';
import { runChecks } from './check-command';
import { CliError, reason } from './cli-output';
import { applyMigrations, describeStatus, migrationStatus } from './migrate-command';
import { checkPassword, generatePassword, promptNewPassword, readPassword } from './password-input';

/**
 * The commands of `pnpm kassa` (docs/operations.md): the operator CLI. Reads the same environment as
 * the server.
 */
const out = (line: string) => process.stdout.write(`${line}\n`);
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function email(value: string): string {
  if (!emailPattern.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not an e-mail address.`);
  return value.trim();
}

/** Opens the database with the composition's migration list; applies pending ones first unless `migrate` is false. */
async function withDatabase<T>(config: AppConfig, work: (ds: DataSource) => Promise<T>, opts: { migrate?: boolean } = {}): Promise<T> {
  const closers = closerStack();
  try {
    const { dataSource } = await openKassaDatabase(config, closers);
    if (opts.migrate ?? true) {
      const { pending } = await migrationStatus(dataSource);
      if (pending.length > 0) {
        out(`applying ${pending.length} pending migrations first (as the server does at start-up)`);
        await applyMigrations(dataSource, pending);
      }
    }
    return await work(dataSource);
  } finally {
    await closers.close();
  }
}

export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command('kassa')
    .description('Operator commands for a Kassa instance (same environment as the server: DATABASE_URL, REDIS_URL, …).')
    .showHelpAfterError()
    .exitOverride();
  const config = () => loadConfig(env);

  program.command('migrate')
    .description('list applied and pending migrations of core, the shop and the plugins, and apply the pending ones')
    .option('--dry-run', 'only list them; apply nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      await withDatabase(config(), async (ds) => {
        const status = await migrationStatus(ds);
        describeStatus(status).forEach(out);
        if (status.pending.length === 0) return out('nothing to apply: the database is up to date');
        if (opts.dryRun) return out(`dry run: ${status.pending.length} migrations would be applied, nothing was changed`);
        const applied = await applyMigrations(ds, status.pending);
        out(`applied ${applied.length} migrations:`);
        applied.forEach((name) => out(`  applied  ${name}`));
      }, { migrate: false });
    });

  program.command('check')
    .description('try configuration, database, Redis, SMTP and the Stripe key, one line each; exit 1 on any failure')
    .option('--timeout <ms>', 'how long to wait for each part', (v) => {
      const ms = Number(v);
      if (!Number.isInteger(ms) || ms < 100 || ms > 120_000) throw new InvalidArgumentError('Give milliseconds between 100 and 120000.');
      return ms;
    }, 5000)
    .action(async (opts: { timeout: number }) => {
      const outcomes = await runChecks(env, opts.timeout);
      const width = Math.max(...outcomes.map((o) => o.part.length));
      for (const o of outcomes) out(`${o.part.padEnd(width)}  ${o.verdict.padEnd(14)} ${o.detail}`);
      const failed = outcomes.filter((o) => o.verdict === 'failed');
      if (failed.length > 0) throw new CliError(`${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((o) => o.part).join(', ')}`);
    });

  program.command('create-operator')
    .description('create an instance operator login (or make an existing login an operator)')
    .argument('<email>', 'e-mail address of the login', email)
    .option('--name <name>', 'display name of a new login', '')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--generate-password', 'generate a password and print it (the default when stdin is not a terminal)')
    .action(async (address: string, opts: { name: string; passwordStdin?: boolean; generatePassword?: boolean }) => {
      const cfg = config();
      await withDatabase(cfg, async (ds) => {
        if (await findUserByEmail(ds, address)) {
          await setOperator(ds, address, true);
          return out(`${address} already has a login (its password is unchanged) and is now an instance operator`);
        }
        let password: string;
        let generated = false;
        if (opts.passwordStdin) password = (await readPassword('')).replace(/\r$/, '');
        else if (opts.generatePassword || !process.stdin.isTTY) [password, generated] = [generatePassword(), true];
        else password = await promptNewPassword();
        checkPassword(password);
        await createUser(ds, { email: address, passwordHash: await hashPassword(password), name: opts.name, isOperator: true });
        out(`created the login ${address}; it is an instance operator`);
        if (generated) out(`password: ${password}\n(shown once: store it now, or change it after signing in)`);
      });
    });

  program.command('create-organizer')
    .description('create an organizer and its admin team')
    .argument('<name>', 'display name, e.g. "Summer Fest e.V."')
    .argument('<slug>', 'URL slug, e.g. summer-fest (lower-case letters, digits, dashes)')
    .option('--admin <email>', 'an existing login to put into the admin team', email)
    .action(async (name: string, slug: string, opts: { admin?: string }) => {
      await withDatabase(config(), async (ds) => {
        const created = await createOrganizerWithAdminTeam(ds, { name, slug, ...(opts.admin ? { adminEmail: opts.admin } : {}) });
        out(`created organizer "${created.organizer.name}" (/${created.organizer.slug}/, id ${created.organizer.id})`);
        out(`admin team "${created.team.name}": ${created.admin ? created.admin.email : 'no members yet (add one with --admin, or in the control panel)'}`);
      });
    });
  return program;
}

/**
 * Runs one command line with the given environment; resolves to the exit code (0 done, 1 refused or
 * failed with the reason on stderr, 2 a usage error). The entry point (kassa-cli.ts) exits with it;
 * tests call it in their own process.
 */
export async function runKassaCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    await buildProgram(env).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`error: ${isKassaError(err) || err instanceof CliError ? err.message : reason(err)}\n`);
    return 1;
  }
}
