import { type DataSource } from '@kassa/core';
export type SubmissionKind = 'place_order' | 'pay';
/** What the first submission of a token produced: where to send the browser, and the order. */
export interface SubmissionResult {
    redirect: string;
    orderId: string | null;
}
export interface SubmissionStoreOptions {
    /** How long a duplicate waits for the first submission to finish. */
    waitMs?: number;
    pollMs?: number;
}
/**
 * Makes a buyer's POST idempotent. The first request with a token claims it with an INSERT on the
 * primary key (the database decides the race, not the session); duplicates wait for its result and
 * answer with the same redirect. A failed first attempt deletes its claim, so the buyer can fix the
 * problem and submit again with the same form.
 *
 * No transaction is held while the work runs: the work calls providers over the network and the
 * core services open their own transactions.
 */
export declare class SubmissionStore {
    private readonly ds;
    private readonly waitMs;
    private readonly pollMs;
    constructor(ds: DataSource, opts?: SubmissionStoreOptions);
    /**
     * Runs `work` once per token. `work` receives `recordOrder` to store the order as soon as it
     * exists, so a duplicate that outlasts the wait can still be sent to the order page.
     */
    run(token: string, kind: SubmissionKind, owner: string, work: (recordOrder: (orderId: string) => Promise<void>) => Promise<SubmissionResult>): Promise<SubmissionResult & {
        replayed: boolean;
    }>;
    private runClaimed;
    private find;
}
