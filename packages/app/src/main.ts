import path from 'node:path';
import { loadConfig } from '@kassa/core/host';
import { startKassa, type RunningKassa } from './start-kassa';

/**
 * The process entry (`pnpm start`): everything is wired by startKassa (shared with the e2e tests);
 * this file reads the environment, prints where things are and stops gracefully on a signal.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  let running: RunningKassa | null = null;
  const shutdown = async (code: number) => {
    await running?.close().catch((err: unknown) => console.error(err));
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    running = await startKassa(config);
  } catch (err) {
    console.error(err);
    return shutdown(1);
  }
  const { url, login, eventPath, embeddedDefaults } = running;
  const embedded = running.kassa.embedded !== null;
  const lines = [
    '',
    `  Kassa is running at ${url}/`,
    `  Demo shop:      ${url}${eventPath}`,
    `  Control panel:  ${url}/control/login`,
    login ? `  Demo login:     ${login.email} / ${login.password}` : '',
    `  API docs:       ${url}/api/docs`,
    embedded ? `  Data:           ${path.resolve(config.KASSA_DATA_DIR)} (embedded PostgreSQL; set DATABASE_URL to use your own)` : '',
    embeddedDefaults.length
      ? `  Offline:        ${embeddedDefaults.join(', ')} (embedded defaults, no real accounts and no real money; Stripe test cards such as 4242 4242 4242 4242)`
      : '',
    embedded ? '  Jobs:           running in this process' : '  Jobs:           run `pnpm worker` beside this server',
    '',
  ].filter((l, i, all) => l !== '' || i === 0 || i === all.length - 1);
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
