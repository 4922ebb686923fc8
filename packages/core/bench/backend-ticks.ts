import { readFileSync } from 'node:fs';

/**
 * utime + stime of a PostgreSQL backend from /proc, in clock ticks (USER_HZ, 100 a second): the
 * database runs on this machine. bench/lib/pg-cpu.ts has the same for a whole pool, but core's
 * project cannot import from outside the package.
 */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
