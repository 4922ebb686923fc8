import { matchTransactions, type CandidateOrder, type MatchResult } from '../matching/match-transactions';
import type { CsvMapping } from '../statement/csv-mapping';
import { transactionKeys } from '../statement/idempotency';
import { parseStatement } from '../statement/parse-statement';
import type { StatementFormat, StatementTransaction } from '../statement/transaction';

export interface ImportPlanInput<O extends CandidateOrder> {
  readonly content: string;
  readonly format?: StatementFormat;
  readonly csvMapping?: CsvMapping;
  /** Keys of transactions already stored for this organizer (or event): they are not booked again. */
  readonly knownKeys: ReadonlySet<string>;
  /** The orders transfers may be for, with their current pending sums. */
  readonly orders: readonly O[];
}

export interface PlannedTransaction<O extends CandidateOrder> {
  readonly key: string;
  readonly transaction: StatementTransaction;
  readonly match: MatchResult<O>;
}

export interface ImportPlan<O extends CandidateOrder> {
  readonly format: StatementFormat;
  /** New transactions, in statement order, each with what to book. */
  readonly planned: readonly PlannedTransaction<O>[];
  /** Transactions of this file that an earlier import already stored. */
  readonly alreadyImported: readonly { readonly key: string; readonly transaction: StatementTransaction }[];
}

/**
 * Everything an import decides before it writes: read the file (all or nothing), key each
 * transaction, leave out the ones already stored, and match the rest. The import job then only
 * stores the planned transactions under their keys (a unique key makes a concurrent second run
 * harmless) and books each match through core's payments port.
 */
export function planStatementImport<O extends CandidateOrder>(input: ImportPlanInput<O>): ImportPlan<O> {
  const statement = parseStatement(input.content, { format: input.format, csvMapping: input.csvMapping });
  const keys = transactionKeys(statement.transactions);
  const fresh: { key: string; transaction: StatementTransaction }[] = [];
  const alreadyImported: { key: string; transaction: StatementTransaction }[] = [];
  statement.transactions.forEach((transaction, i) => (input.knownKeys.has(keys[i]!) ? alreadyImported : fresh).push({ key: keys[i]!, transaction }));
  const matches = matchTransactions(fresh.map((f) => f.transaction), input.orders);
  return {
    format: statement.format,
    planned: fresh.map((f, i) => ({ ...f, match: matches[i]! })),
    alreadyImported,
  };
}
