/**
 * Whether an error means the database cannot be reached right now (down, restarting, refusing
 * connections, a session killed by a shutdown) rather than that a statement was wrong. The server
 * answers these with 503 DATABASE_UNAVAILABLE and Retry-After (the request's transaction committed
 * whole or not at all), and the pools reconnect on their own once the database is back.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && unavailableMessages.some((m) => message.includes(m))) return true;
    // TypeORM wraps the driver's error (driverError); Node wraps connection errors (cause, AggregateError).
    const next = (e as { driverError?: unknown; cause?: unknown; errors?: unknown[] });
    e = next.driverError ?? next.cause ?? next.errors?.[0];
  }
  return false;
}

/** Socket errors and SQLSTATEs of class 57 that mean "not now": admin/crash shutdown, cannot connect now. */
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03']);
/** What pg says when the server goes away mid-session or a pool slot never frees up. */
const unavailableMessages = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error'];
