import { fork, type ChildProcess } from 'node:child_process';
import { cpuUsage } from 'node:process';
import { startEmulator, type RunningEmulator } from '../../packages/stripe-emulator/src';

/*
 * The Stripe emulator in a process of its own, for benchmarks: Stripe is not on Kassa's machine,
 * and in the same process the emulator's work (its HTTP server, its store) would be counted as
 * Kassa's CPU and would compete with Kassa for one event loop. The parent drives it over IPC with
 * the same calls as the in-process handle.
 */

type Call = { id: number; op: string; args: unknown[] };
type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The calls the benchmarks make on the emulator, each answered over IPC; `cpuMs` is the child's CPU time so far. */
export interface EmulatorProcess {
  url: string;
  stripeJsUrl: string;
  keysFor(secretKey: string): Promise<{ account: string; publishableKey: string; clientId: string }>;
  configureRateLimit(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  chaos(options: Record<string, unknown>): Promise<void>;
  stats(): Promise<Record<string, unknown>>;
  chargeReport(accountOrKey: string, metadataKey?: string): Promise<Record<string, unknown>>;
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startEmulatorProcess(options: Record<string, unknown>): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--import', 'tsx'] });
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: Answer) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(m.error));
  });
  const call = <T>(op: string, ...args: unknown[]): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    child.send({ id, op, args } satisfies Call);
  });
  const started = await call<{ url: string; stripeJsUrl: string }>('start', options);
  return {
    ...started,
    keysFor: (k) => call('keysFor', k),
    configureRateLimit: (p) => call('configureRateLimit', p),
    chaos: (c) => call('chaos', c),
    stats: () => call('stats'),
    chargeReport: (a, k) => call('chargeReport', a, k),
    cpuMs: () => call('cpuMs'),
    close: async () => {
      await call('close');
      child.disconnect();
    },
  };
}

async function serve(): Promise<void> {
  let emu: RunningEmulator | undefined;
  process.on('message', (m: Call) => {
    void (async () => {
      try {
        let value: unknown;
        if (m.op === 'start') {
          emu = await startEmulator(m.args[0] as Parameters<typeof startEmulator>[0]);
          value = { url: emu.url, stripeJsUrl: emu.stripeJsUrl };
        } else if (m.op === 'cpuMs') {
          const c = cpuUsage();
          value = (c.user + c.system) / 1000;
        } else if (m.op === 'close') {
          await emu!.close();
        } else {
          value = (emu as unknown as Record<string, (...a: unknown[]) => unknown>)[m.op]!(...m.args);
        }
        process.send!({ id: m.id, ok: true, value: value ?? null } satisfies Answer);
      } catch (err) {
        process.send!({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Answer);
      }
    })();
  });
}

if (process.argv.includes('--child')) void serve();
