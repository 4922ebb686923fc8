export { createTestDatabase, defaultDatabaseUrl, type TestDatabase, type TestDatabaseOptions } from './test-database';
