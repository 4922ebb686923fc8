import { connect, type Socket } from 'node:net';

/**
 * A closed-loop HTTP/1.1 load generator for requests built in full before the run: each connection
 * writes its next request's bytes, waits for the whole answer, records the latency and sends the
 * next. It parses only the status line and Content-Length of the (small) answers, so per request it
 * costs a write, a read and a few string operations: on a shared machine the load generator should
 * not take the CPU the server under test needs.
 */
export interface PresignedRun {
  /** Answers received (2xx and others). */
  completed: number;
  non2xx: number;
  errors: number;
  /** Seconds from the first request to the last answer. */
  duration: number;
  /** Requests left unsent when the run ended (0: it ran out of requests before the time was up). */
  unsent: number;
  latency: { p50: number; p99: number; max: number };
}

export async function runPresigned(opts: { host: string; port: number; connections: number; seconds: number; requests: Buffer[] }): Promise<PresignedRun> {
  const { requests } = opts;
  const latencies = new Float64Array(requests.length);
  let next = 0;
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  let last = start;

  const drive = (socket: Socket) => new Promise<void>((resolve) => {
    let buffered = '';
    let sentAt = 0;
    const send = () => {
      if (next >= requests.length || performance.now() >= deadline) {
        socket.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      socket.write(requests[next]!);
      next += 1;
    };
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const head = buffered.slice(0, headEnd).toLowerCase();
        const lengthAt = head.indexOf('content-length:');
        let end: number;
        if (lengthAt !== -1) {
          const lineEnd = head.indexOf('\r\n', lengthAt);
          end = headEnd + 4 + Number.parseInt(head.slice(lengthAt + 15, lineEnd === -1 ? undefined : lineEnd), 10);
        } else if (head.includes('transfer-encoding: chunked')) {
          // Small answers: the body ends at the last, empty chunk.
          const last = buffered.indexOf('\r\n0\r\n\r\n', headEnd + 2);
          end = last === -1 ? Number.POSITIVE_INFINITY : last + 7;
        } else end = headEnd + 4;
        if (buffered.length < end) return;
        const status = Number(buffered.slice(9, 12));
        buffered = buffered.slice(end);
        const now = performance.now();
        latencies[completed] = now - sentAt;
        completed += 1;
        last = now;
        if (status < 200 || status > 299) non2xx += 1;
        send();
      }
    });
    socket.on('error', () => {
      errors += 1;
      resolve();
    });
    socket.on('close', () => resolve());
    send();
  });

  const sockets = await Promise.all(Array.from({ length: opts.connections }, () => new Promise<Socket>((resolve, reject) => {
    const s = connect(opts.port, opts.host, () => resolve(s));
    s.once('error', reject);
  })));
  await Promise.all(sockets.map(drive));
  const sorted = latencies.slice(0, completed).sort();
  const at = (q: number) => (completed === 0 ? 0 : Math.round(sorted[Math.min(completed - 1, Math.floor(q * completed))]! * 10) / 10);
  return {
    completed, non2xx, errors, duration: (last - start) / 1000, unsent: requests.length - next,
    latency: { p50: at(0.5), p99: at(0.99), max: Math.round(sorted[completed - 1] ?? 0) },
  };
}
