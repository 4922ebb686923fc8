import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { cpuTicks } from '../lib/pg-cpu';

/** The repository's root: every process of the rush runs from there, as `pnpm start` does. */
export const root = path.resolve(__dirname, '..', '..');

/** A Kassa process (server, worker, CLI or the emulator) started with tsx, as the README's commands do. */
export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the first stdout line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends one line to stdin and resolves with the next stdout line. */
  ask(line: string): Promise<string>;
  /** CPU milliseconds (user + system) the process used so far, from /proc. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export function startProcess(name: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script), ...args], {
    cwd: root, env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.base.json', NODE_ENV: 'production', ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const next: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    const w = waiting.findIndex((x) => x.pattern.test(line));
    if (w >= 0) waiting.splice(w, 1)[0]!.resolve(line);
    next.shift()?.(line);
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  let exited = false;
  child.once('exit', (code) => {
    exited = true;
    if (code !== 0 && code !== null) process.stderr.write(`[${name}] exited with ${code}\n${lines.slice(-20).join('\n')}\n`);
  });
  return {
    name, child,
    waitFor(pattern, timeoutMs = 60_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
        waiting.push({ pattern, resolve: (l) => { clearTimeout(timer); resolve(l); } });
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}) before printing ${pattern}:\n${lines.slice(-20).join('\n')}`)); });
      });
    },
    ask(line) {
      return new Promise((resolve) => {
        next.push(resolve);
        child.stdin!.write(`${line}\n`);
      });
    },
    cpuMs: () => cpuTicks(child.pid!) * 10,
    stop() {
      if (exited) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

/** Runs a command to its end (the operator CLI) and returns its output; a non-zero exit throws. */
export async function runToEnd(script: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<string> {
  const p = startProcess(path.basename(script), script, args, env);
  let out = '';
  p.child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.child.stdin!.end(stdin);
  const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}: ${out}`);
  return out;
}

export { cpuTicks as cpuTicksOf } from '../lib/pg-cpu';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
