import { loadConfig } from '@kassa/core/host';
import { listOperators, setOperator } from '@kassa/server';
import { composeKassa } from './compose-kassa';

const usage = 'usage: pnpm operator grant <email> | revoke <email> | list';

/**
 * `pnpm operator grant|revoke <email>` and `pnpm operator list`: who is an instance operator.
 * Reads the same environment as the server (DATABASE_URL, or the embedded database in
 * KASSA_DATA_DIR while the server is stopped, since PGlite serves one process).
 */
async function main(argv: readonly string[]): Promise<number> {
  const [command, email] = argv;
  if (!(command === 'list' || ((command === 'grant' || command === 'revoke') && email))) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const kassa = await composeKassa(loadConfig(process.env));
  try {
    if (command === 'list') {
      const operators = await listOperators(kassa.dataSource);
      process.stdout.write(operators.length ? `${operators.join('\n')}\n` : 'no instance operators\n');
    } else {
      await setOperator(kassa.dataSource, email!, command === 'grant');
      process.stdout.write(`${email} is ${command === 'grant' ? 'now' : 'no longer'} an instance operator\n`);
    }
    return 0;
  } finally {
    await kassa.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
