import { startEmulator } from './index';

/** `kassa-stripe-emulator --port N [--host H] [--seed S]`: development and tests only. */
const USAGE = `Usage: kassa-stripe-emulator [--port N] [--host H] [--seed S]

Starts the Kassa Stripe emulator, an offline stand-in for the Stripe API and Stripe.js,
for development and tests only. Binds 127.0.0.1 unless --host is given. Refuses live keys.`;

function parseArgs(argv: string[]): { port: number; host: string; seed?: number } | null {
  const out: { port: number; host: string; seed?: number } = { port: 12111, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--help' || arg === '-h') return null;
    if ((arg === '--port' || arg === '--host' || arg === '--seed') && value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '--port') out.port = Number(value);
    else if (arg === '--host') out.host = value as string;
    else if (arg === '--seed') out.seed = Number(value);
    else throw new Error(`Unknown argument: ${arg}`);
    i++;
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be an integer between 0 and 65535');
  return out;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const emu = await startEmulator({ ...args, banner: true });
  const stop = () => void emu.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
