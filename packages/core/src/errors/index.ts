export { errorCodes, type ErrorCode, type ErrorDefinition } from './error-codes';
export { KassaError, isKassaError, type ErrorParams } from './kassa-error';
