import { readFileSync } from 'node:fs';
import type { DataSource } from '../../packages/core/src/host';

/**
 * CPU time of the PostgreSQL backends serving one data source's pool, read from /proc (the
 * database runs on this machine). Together with the Node process's own CPU time it gives a cost
 * per operation that, unlike throughput, hardly depends on what else the machine is doing.
 */
export interface BackendCpu {
  /** CPU milliseconds the pool's backends used since the probe was made. */
  elapsedCpuMs(): number;
  /** How many backends are being followed. */
  readonly backends: number;
}

const ticksPerSecond = 100; // USER_HZ on Linux

export async function probeBackendCpu(ds: DataSource): Promise<BackendCpu> {
  // node-postgres keeps its pooled clients in `_clients`; their local ports identify our backends.
  const pool = (ds.driver as unknown as { master?: { _clients?: { connection?: { stream?: { localPort?: number } } }[] } }).master;
  const ports = (pool?._clients ?? []).map((c) => c.connection?.stream?.localPort).filter((p): p is number => typeof p === 'number');
  const rows: { pid: number }[] = ports.length
    ? await ds.query('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND client_addr IS NOT NULL', [ports])
    : [];
  const pids = rows.map((r) => r.pid);
  const read = () => pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
  const start = read();
  return { backends: pids.length, elapsedCpuMs: () => ((read() - start) * 1000) / ticksPerSecond };
}

/** utime + stime of a process from /proc, in clock ticks (USER_HZ); 0 once it has exited. */
export function cpuTicks(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // the backend exited (pool shrank); its time is lost, which the caller sees as fewer backends
  }
}
