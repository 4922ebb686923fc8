/** A Stripe-shaped API error: thrown by handlers, rendered as `{error:{...}}` by the server. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly fields: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    for (const [k, v] of Object.entries(this.fields)) if (v !== undefined) error[k] = v;
    return { error };
  }
}

export const invalidRequest = (message: string, fields: Record<string, unknown> = {}): ApiError =>
  new ApiError(400, 'invalid_request_error', message, fields);

export const resourceMissing = (kind: string, id: string, param = 'id'): ApiError =>
  new ApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param });

export const unknownParameter = (param: string): ApiError =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });

export const missingParameter = (param: string): ApiError =>
  invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });

export const unexpectedState = (kind: 'payment_intent' | 'setup_intent', obj: { id: string; status: string }, action: string): ApiError =>
  invalidRequest(
    `This ${kind === 'payment_intent' ? 'PaymentIntent' : 'SetupIntent'}'s ${action} could not be performed because it has a status of ${obj.status}.`,
    { code: `${kind}_unexpected_state`, [kind]: undefined },
  );

export const authenticationError = (message: string): ApiError => new ApiError(401, 'invalid_request_error', message);

export const permissionError = (message: string, code?: string): ApiError =>
  new ApiError(403, 'invalid_request_error', message, { code });
