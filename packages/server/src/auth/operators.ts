import { KassaError, type DataSource } from '@kassa/core/host';

/**
 * Instance operators (`app_user.is_operator`): the people who run the instance, as opposed to an
 * organizer's teams. Today an operator also sees the instance-wide failed jobs (maintenance,
 * schedulers, webhooks) on /control/jobs. Granted from the command line (`pnpm operator`) or, in
 * the embedded default, to the demo login; nothing in the control panel or the API grants it.
 */
export async function setOperator(ds: DataSource, email: string, operator: boolean): Promise<void> {
  // Wrapped in a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
  const rows: unknown[] = await ds.query(
    'WITH u AS (UPDATE app_user SET is_operator = $2 WHERE lower(email) = lower($1) RETURNING id) SELECT id FROM u', [email.trim(), operator]);
  if (rows.length === 0) throw new KassaError('NOT_FOUND', { entity: `User ${email}` });
}

/** E-mail addresses of the instance's operators. */
export async function listOperators(ds: DataSource): Promise<string[]> {
  const rows: { email: string }[] = await ds.query('SELECT email FROM app_user WHERE is_operator ORDER BY email');
  return rows.map((r) => r.email);
}
