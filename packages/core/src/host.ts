// The host surface of @kassa/core (`@kassa/core/host`): what the server, jobs, the app and the
// test harness need besides the plugin port — services, persistence, configuration, start-up.
// Plugins never import this (a lint rule keeps them out); they get `@kassa/core`.
export * from './index';
