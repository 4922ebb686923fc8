import type { DataSource } from 'typeorm';

/** The SQL behind readable logs: who the actors of log entries were (core/src/audit/order-log.ts). */

/** Emails of users and names of the organizer's API tokens, keyed "user:<id>" / "api_token:<id>". */
export async function actorNames(ds: DataSource, organizerId: string, actors: readonly { type: string; id: string | null }[]): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(actors.filter((a) => a.type === type && a.id).map((a) => a.id as string))];
  const users = ids('user');
  const tokens = ids('api_token');
  const out = new Map<string, string>();
  if (users.length > 0) {
    const rows: { id: string; email: string }[] = await ds.query('SELECT id::text AS id, email FROM app_user WHERE id::text = ANY($1)', [users]);
    for (const r of rows) out.set(`user:${r.id}`, r.email);
  }
  if (tokens.length > 0) {
    const rows: { id: string; name: string }[] = await ds.query(
      'SELECT id::text AS id, name FROM api_token WHERE organizer_id = $1 AND id::text = ANY($2)', [organizerId, tokens],
    );
    for (const r of rows) out.set(`api_token:${r.id}`, r.name);
  }
  return out;
}
