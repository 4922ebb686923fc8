import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The CLI binds loopback, prints the development-only banner and serves the API. */
describe('kassa-stripe-emulator CLI', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
  });

  it('starts on the given port with the banner and refuses live keys', async () => {
    child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'kassa-stripe-emulator.cjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const banner = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child?.stderr?.on('data', (d: Buffer) => {
        buf += d.toString();
        if (/Listening on/.test(buf)) resolve(buf);
      });
      child?.on('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
    });
    expect(banner).toMatch(/for development and tests only/);
    const url = (/Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner) as RegExpExecArray)[1];
    const ok = await fetch(`${url}/v1/balance`, { headers: { Authorization: 'Bearer sk_test_cli' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-kassa-emulator')).toMatch(/development and tests only/);
    const live = await fetch(`${url}/v1/balance`, { headers: { Authorization: 'Bearer sk_live_cli' } });
    expect(live.status).toBe(401);
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('rejects unknown arguments with usage and exit code 2', async () => {
    child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'kassa-stripe-emulator.cjs'), '--prot', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child?.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/Unknown argument: --prot/);
    expect(err).toMatch(/Usage: kassa-stripe-emulator/);
  });
});
