export { errorCodes, type ErrorCode, type ErrorDefinition, type ErrorCatalogue } from './error-codes';
export { KassaError, isKassaError, defineErrors, pluginError, type ErrorParams, type AnyErrorCode } from './kassa-error';
