export { runProviderConformance, type ProviderConformanceOptions, type ConformancePaymentPath } from './run-provider-conformance';
export {
  runPluginConformance, type PluginConformanceOptions, type PluginConformanceContext, type PluginRouteCheck, type PluginJobCheck,
} from './run-plugin-conformance';
export { paymentOutcomeProblems, viewModelProblems, jsonProblems } from './conformance-checks';
export { createSamplePlugin, AcmeProvider, acmeErrors, type AcmeState } from './sample-plugin';
