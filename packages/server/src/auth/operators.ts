import { AuthStore, KassaError, type DataSource } from '@kassa/core/host';

/**
 * Instance operators (`app_user.is_operator`): the people who run the instance, as opposed to an
 * organizer's teams. Today an operator also sees the instance-wide failed jobs (maintenance,
 * schedulers, webhooks) on /control/jobs. Granted from the command line (`pnpm operator`) or, in
 * the embedded default, to the demo login; nothing in the control panel or the API grants it.
 */
export async function setOperator(ds: DataSource, email: string, operator: boolean): Promise<void> {
  if (!(await new AuthStore(ds).setOperator(email, operator))) throw new KassaError('NOT_FOUND', { entity: `User ${email}` });
}

/** E-mail addresses of the instance's operators. */
export function listOperators(ds: DataSource): Promise<string[]> {
  return new AuthStore(ds).operatorEmails();
}
