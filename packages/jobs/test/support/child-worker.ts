import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Runs a fixture worker in its own Node process (tsx), collecting its stdout. */
export class ChildWorker {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `fixture` is a file in test/fixtures, or an absolute path. */
  constructor(fixture: string, env: Record<string, string>) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', fixture.startsWith('/') ? fixture : join(__dirname, '../fixtures', fixture)], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '../../../../tsconfig.base.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when stdout contains `marker`; rejects if the process exits first. */
  async waitFor(marker: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.stdout.includes(marker)) {
          this.proc.stdout!.off('data', check);
          resolve();
        }
      };
      this.proc.stdout!.on('data', check);
      check();
      void this.exited.then(({ code, signal }) => reject(new Error(`worker exited (${code ?? signal}) before "${marker}": ${this.stderr}`)));
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}
