import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KassaError } from '../../errors';

const lockFileName = 'embedded-postgres.pid';

/**
 * PGlite happily opens a data directory that another process is using, and two writers corrupt it.
 * A pid file, like PostgreSQL's postmaster.pid, refuses the second one; a file left by a process
 * that no longer runs is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && isRunning(pid)) {
      throw new KassaError('EMBEDDED_DATA_DIR_IN_USE', { dataDir, pid });
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw new KassaError('EMBEDDED_DATA_DIR_IN_USE', { dataDir, pid: 'unknown' });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
