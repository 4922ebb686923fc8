export { runProviderConformance, type ProviderConformanceOptions, type ConformancePaymentPath } from './run-provider-conformance';
export { paymentOutcomeProblems, viewModelProblems, jsonProblems } from './conformance-checks';
