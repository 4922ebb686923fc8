export { createTestDatabase, defaultDatabaseUrl, type TestDatabase, type TestDatabaseOptions } from './test-database';
export { TestClock } from './clock';
export { createOrganizer, createEvent, createProduct, createQuota, createShop, snapshotRows, type ShopFixture } from './factories';
export { ScriptedProvider, providerLookup, providerContextFactory, type ScriptedProviderOptions } from './test-providers';
export { runProviderConformance, paymentOutcomeProblems, viewModelProblems, jsonProblems, type ProviderConformanceOptions, type ConformancePaymentPath } from './conformance';
export { chromiumArgs, launchChromium } from './browser';
