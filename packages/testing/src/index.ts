export { createTestDatabase, defaultDatabaseUrl, type TestDatabase, type TestDatabaseOptions } from './test-database';
export { TestClock } from './clock';
export { createOrganizer, createEvent, createProduct, createQuota, createShop, snapshotRows, type ShopFixture } from './factories';
export { ScriptedProvider, providerLookup, providerContextFactory, type ScriptedProviderOptions } from './test-providers';
export {
  runProviderConformance, runPluginConformance, paymentOutcomeProblems, viewModelProblems, jsonProblems, createSamplePlugin, AcmeProvider, acmeErrors,
  type ProviderConformanceOptions, type ConformancePaymentPath, type PluginConformanceOptions, type PluginConformanceContext, type PluginRouteCheck,
  type PluginJobCheck, type AcmeState,
} from './conformance';
export { chromiumArgs, launchChromium } from './browser';
export { StoredMethodProvider, MemoryChargeLedger, type ChargeLedger } from './stored-method-provider';
export {
  runInputFuzz, routesOfTree, prng, nastyText, nastyJson, fuzzFieldNames, encodePart, stateDigestSql,
  type FuzzRoute, type FuzzRequest, type FuzzIdentity, type FuzzAnswer, type InputFuzzOptions, type InputFuzzReport,
} from './input-fuzz';
