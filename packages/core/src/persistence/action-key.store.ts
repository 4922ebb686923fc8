import type { DataSource } from 'typeorm';

/** The SQL of table action_key (see action-key/action-key.service.ts for what the keys are for). */

/** Stores a fresh key and deletes the keys issued before `expiredBefore`, in one statement. */
export async function insertActionKey(
  ds: DataSource, key: string, organizerId: string, orderId: string | null, now: Date, expiredBefore: Date,
): Promise<void> {
  await ds.query(
    `WITH gone AS (DELETE FROM action_key WHERE created_at < $5)
     INSERT INTO action_key (key, organizer_id, order_id, created_at) VALUES ($1, $2, $3, $4)`,
    [key, organizerId, orderId, now, expiredBefore],
  );
}

/**
 * Marks the key used with one compare-and-set UPDATE; false when it is unknown, used, issued
 * before `issuedAfter`, or belongs to another organizer or (when both name one) another order.
 */
export async function claimActionKey(
  ds: DataSource, key: string, organizerId: string, orderId: string | null, now: Date, issuedAfter: Date,
): Promise<boolean> {
  const rows: unknown[] = await ds.query(
    `UPDATE action_key SET used_at = $3
      WHERE key = $1 AND organizer_id = $2 AND used_at IS NULL AND created_at >= $4
        AND ($5::uuid IS NULL OR order_id IS NULL OR order_id = $5::uuid)
     RETURNING key`,
    [key, organizerId, now, issuedAfter, orderId],
  );
  // pg answers an UPDATE … RETURNING as [rows, count] through TypeORM's query().
  const returned = Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows;
  return returned.length > 0;
}

/** Gives a claimed key back. */
export async function releaseActionKey(ds: DataSource, key: string): Promise<void> {
  await ds.query('UPDATE action_key SET used_at = NULL WHERE key = $1', [key]);
}
