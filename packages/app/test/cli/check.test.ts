import { createServer, type AddressInfo, type Server } from 'node:net';
import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { cliSandbox, type CliSandbox } from './run-cli';

/* `pnpm kassa check`: each configured part tried for real (PostgreSQL, Redis, an SMTP server, the Stripe emulator). */
let sandbox: CliSandbox;
let emulator: RunningEmulator;
let smtp: Server;
let smtpPort: number;

beforeAll(async () => {
  sandbox = await cliSandbox();
  emulator = await startEmulator();
  // The smallest SMTP server nodemailer's verify talks to: greeting, EHLO, QUIT.
  smtp = createServer((socket) => {
    socket.write('220 localhost ESMTP test\r\n');
    socket.on('data', (data) => {
      for (const line of data.toString().split('\r\n').filter(Boolean)) {
        if (/^(EHLO|HELO)/i.test(line)) socket.write('250 localhost\r\n');
        else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else socket.write('502 5.5.1 command not recognized\r\n'); // RFC 5321's answer to a command this test server does not take
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.address() as AddressInfo).port;
});
afterAll(async () => {
  await sandbox?.destroy();
  await emulator?.close();
  await new Promise((resolve) => smtp?.close(resolve));
});

const stripeSettings = (secretKey: string) => JSON.stringify({ 'payment.stripe': { secretKey, publishableKey: 'pk_test_x', apiBase: emulator.url } });
const line = (stdout: string, part: string) => stdout.split('\n').find((l) => l.startsWith(`${part} `)) ?? '';

it('prints one line per part and exits 0 when every configured part answers', async () => {
  const result = await sandbox.run(['check'], {
    env: { REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, KASSA_INSTANCE_SETTINGS: stripeSettings('sk_test_kassaCliCheck') },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(line(result.stdout, 'configuration')).toMatch(/ ok /);
  // The schema is empty: reachable, and it says what `migrate` would do.
  expect(line(result.stdout, 'database')).toMatch(/ ok +PostgreSQL [\d.]+.*, \d+ pending migrations \(pnpm kassa migrate\)/);
  expect(line(result.stdout, 'redis')).toMatch(/ ok +PONG \(Redis [\d.]+\)/);
  expect(line(result.stdout, 'smtp')).toMatch(/ ok +127\.0\.0\.1:\d+ accepts connections/);
  expect(line(result.stdout, 'stripe')).toMatch(/ ok +http:\/\/127\.0\.0\.1:\d+ accepts the test secret key/);
}, 90_000);

it('fails with the reason per part and exit 1: Redis on a closed port, a bad Stripe key, an unreachable SMTP server', async () => {
  const result = await sandbox.run(['check', '--timeout', '3000'], {
    env: { REDIS_URL: 'redis://127.0.0.1:1', SMTP_URL: 'smtp://127.0.0.1:2', KASSA_INSTANCE_SETTINGS: stripeSettings('sk_wrong_kassaCliCheck') },
  });
  expect(result.code).toBe(1);
  expect(line(result.stdout, 'database')).toMatch(/ ok /);
  expect(line(result.stdout, 'redis')).toMatch(/ failed +.*ECONNREFUSED 127\.0\.0\.1:1/);
  expect(line(result.stdout, 'smtp')).toMatch(/ failed +.*ECONNREFUSED 127\.0\.0\.1:2/);
  expect(line(result.stdout, 'stripe')).toMatch(/ failed +http:\/\/127\.0\.0\.1:\d+ answered 401: Invalid API Key provided/);
  expect(result.stderr).toContain('error: 3 checks failed: redis, smtp, stripe');
}, 90_000);

it('reports parts that are not configured, and a configuration error alone with exit 1', async () => {
  const plain = await sandbox.run(['check']);
  expect(plain.code).toBe(0);
  expect(line(plain.stdout, 'redis')).toMatch(/ not configured +REDIS_URL is unset/);
  expect(line(plain.stdout, 'stripe')).toMatch(/ not configured /);
  const broken = await sandbox.run(['check'], { env: { REDIS_URL: 'http://not-redis' } });
  expect(broken.code).toBe(1);
  expect(line(broken.stdout, 'configuration')).toMatch(/ failed +.*REDIS_URL/);
  expect(broken.stdout).not.toContain('database');
}, 90_000);
