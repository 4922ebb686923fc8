// Moved to the persistence kernel; this path stays for existing importers.
export * from '../persistence/order-sums';
