// Moved to the persistence kernel; this path stays for existing importers.
export { withTransaction } from '../persistence/transaction';
