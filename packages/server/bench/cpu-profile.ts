import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * A V8 CPU profile of part of a benchmark server's run (one phase, or the timed run rather than the
 * start-up that dominates a whole-process --cpu-prof), written as a .cpuprofile (Chrome's DevTools
 * or speedscope open it). Used by the shop's and the webhook intake's benchmark servers.
 */
export function cpuProfiler(): { start(): Promise<void>; stop(file: string): Promise<void> } {
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    },
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
    },
  };
}
