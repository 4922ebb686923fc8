// Moved to the persistence kernel; this path stays for existing importers.
export { prepared, queryPrepared, type PreparedStatement } from '../persistence/prepared-query';
