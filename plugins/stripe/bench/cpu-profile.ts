import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/**
 * A V8 CPU profile of part of a run (the timed run, not the start-up that dominates a whole-process
 * --cpu-prof), written to `dir` as a .cpuprofile (open it in Chrome's DevTools or speedscope).
 */
export function steadyStateProfile(dir: string): { start(): Promise<void>; stop(): Promise<string> } {
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    },
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      const file = path.join(dir, `webhook-server-${process.pid}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  };
}
