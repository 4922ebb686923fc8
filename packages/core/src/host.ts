// The host surface of @kassa/core (`@kassa/core/host`): what the server, jobs, the app and the
// test harness need besides the plugin port — services, persistence, configuration, start-up.
// Plugins never import this (a lint rule keeps them out); they get `@kassa/core`.
export * from './index';
export { CatalogStore, type Availability, type LiveEventRow, type EventFields, type ProductFields } from './persistence/catalog.store';
export { AuthStore, type MembershipRow, type ApiTokenRow } from './persistence/auth.store';
export { OrderReadStore, type OrderParts, type DashboardFigures } from './persistence/order-read.store';
