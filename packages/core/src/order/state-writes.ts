// The write primitives moved to the persistence kernel (persistence/rows.ts, persistence/state-change.ts);
// this path stays for existing importers.
export { lockOrder, lockPayment, lockRefund, lockPaymentWithOrder, hydrate, isUuid, nextLocalId, unprefixed, type OrderRef } from '../persistence/rows';
export { moveOrder, movePayment, moveRefund, record, type RecordInput } from '../persistence/state-change';
