import { reason } from './cli-output';
import { runKassaCli } from './kassa-program';

/**
 * `pnpm kassa <command>`: the operator CLI (docs/operations.md). Reads the same environment as the
 * server. Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 a usage error.
 */
runKassaCli(process.argv.slice(2), process.env).then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`error: ${reason(err)}\n`);
  process.exit(1);
});
