/** The statement formats the import reads. */
export type StatementFormat = 'camt053' | 'mt940' | 'csv';

/**
 * One booked line of a bank statement, the same whatever the format. Credits (money in) are
 * positive, debits negative; `amount` is integer minor units of `currency`.
 */
export interface StatementTransaction {
  readonly amount: number;
  readonly currency: string;
  /** Booking date as YYYY-MM-DD (the bank's calendar day, no time zone). */
  readonly bookingDate: string;
  /** The other party: the payer of a credit, the payee of a debit. */
  readonly payerName: string | null;
  readonly payerIban: string | null;
  /** Remittance information, the text a buyer typed (lines joined by a space). */
  readonly reference: string;
  /**
   * The entry undoes an earlier one (e.g. a refund the buyer's bank sent back). The amount's sign is
   * already this entry's direction; matching leaves reversals to a person instead of taking them as payments.
   */
  readonly reversal: boolean;
  /** The bank's own reference for the entry, when it gives one; the idempotency key then. */
  readonly bankReference: string | null;
  /** Where in the file it came from ("line 12", "Stmt[1]/Ntry[3]"), for the organizer. */
  readonly source: string;
}

export interface ParsedStatement {
  readonly format: StatementFormat;
  readonly transactions: readonly StatementTransaction[];
}
