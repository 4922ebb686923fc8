import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { DataSource } from '@kassa/core/host';

/**
 * CPU time of every PostgreSQL backend this process is connected to (the data source's pool, and
 * BullMQ's own pool on the PostgreSQL backend), read from /proc: the database runs on this
 * machine. Backends are found by this process's TCP sockets to the server's port, matched to
 * pg_stat_activity's client_port; call `track()` now and then while the run opens connections.
 * With the node process's own CPU time it gives a cost per event that, unlike a rate, hardly
 * depends on what else the shared machine is doing.
 */
export class BackendCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  constructor(private readonly ds: DataSource, private readonly serverPort = 5432) {}

  /** Starts following the backends connected now (their CPU so far is not counted). */
  async start(): Promise<void> {
    for (const [pid, ticks] of await this.sample()) this.first.set(pid, ticks);
  }

  /** Picks up backends opened since (counted from their start) and reads every followed backend. */
  async track(): Promise<void> {
    for (const [pid, ticks] of await this.sample()) {
      if (!this.first.has(pid)) this.first.set(pid, 0);
      this.last.set(pid, ticks);
    }
  }

  /** CPU milliseconds used by the followed backends between start() and the last track(). */
  elapsedMs(): number {
    let ticks = 0;
    for (const [pid, end] of this.last) ticks += end - (this.first.get(pid) ?? 0);
    return (ticks * 1000) / 100; // USER_HZ
  }

  private async sample(): Promise<Map<number, number>> {
    const ports = ownPorts(this.serverPort);
    const rows: { pid: number }[] = ports.length
      ? await this.ds.query('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports])
      : [];
    return new Map(rows.map((r) => [r.pid, cpuTicks(r.pid)]));
  }
}

/** Local ports of this process's TCP connections to `remotePort` (sockets in /proc/self/fd, looked up in /proc/net/tcp). */
function ownPorts(remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const remote = parseInt(f[2]!.split(':')[1]!, 16);
      if (remote === remotePort) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
