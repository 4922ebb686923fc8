export declare const eventParams: {
    readonly type: "object";
    readonly properties: {
        readonly organizer: {
            readonly type: "string";
            readonly pattern: "^[a-z0-9][a-z0-9-]{0,62}$";
        };
        readonly event: {
            readonly type: "string";
            readonly pattern: "^[a-z0-9][a-z0-9-]{0,62}$";
        };
    };
    readonly required: readonly ["organizer", "event"];
};
export declare const orderParams: {
    readonly type: "object";
    readonly properties: {
        readonly organizer: {
            readonly type: "string";
            readonly pattern: "^[a-z0-9][a-z0-9-]{0,62}$";
        };
        readonly event: {
            readonly type: "string";
            readonly pattern: "^[a-z0-9][a-z0-9-]{0,62}$";
        };
        readonly code: {
            readonly type: "string";
            readonly pattern: "^[A-Za-z0-9]{1,32}$";
        };
        readonly secret: {
            readonly type: "string";
            readonly pattern: "^[A-Za-z0-9_-]{8,128}$";
        };
    };
    readonly required: readonly ["organizer", "event", "code", "secret"];
};
/** Product quantities as `qty_<product uuid>`; the cart becomes exactly these quantities. */
export declare const cartBody: {
    readonly type: "object";
    readonly properties: {
        readonly _csrf: {
            readonly type: "string";
            readonly maxLength: 200;
        };
    };
    readonly patternProperties: {
        readonly '^qty_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': {
            readonly type: "integer";
            readonly minimum: 0;
            readonly maximum: 20;
        };
    };
    readonly additionalProperties: false;
};
export declare const contactBody: {
    readonly type: "object";
    readonly properties: {
        readonly _csrf: {
            readonly type: "string";
            readonly maxLength: 200;
        };
        readonly email: {
            readonly type: "string";
            readonly format: "email";
            readonly minLength: 3;
            readonly maxLength: 254;
        };
    };
    readonly required: readonly ["email"];
    readonly additionalProperties: false;
};
export declare const paymentBody: {
    readonly type: "object";
    readonly properties: {
        readonly _csrf: {
            readonly type: "string";
            readonly maxLength: 200;
        };
        readonly token: {
            readonly type: "string";
            readonly format: "uuid";
        };
        readonly provider: {
            readonly type: "string";
            readonly pattern: "^[a-z][a-z0-9_-]{0,63}$";
        };
    };
    readonly required: readonly ["provider"];
    readonly maxProperties: 60;
    readonly additionalProperties: {
        readonly type: "string";
        readonly maxLength: 4000;
    };
};
export declare const confirmBody: {
    readonly type: "object";
    readonly properties: {
        readonly _csrf: {
            readonly type: "string";
            readonly maxLength: 200;
        };
        readonly token: {
            readonly type: "string";
            readonly format: "uuid";
        };
    };
    readonly required: readonly ["token"];
    readonly additionalProperties: false;
};
export interface EventParams {
    organizer: string;
    event: string;
}
export interface OrderParams extends EventParams {
    code: string;
    secret: string;
}
export type CartBody = Record<string, string | number | undefined>;
export interface ContactBody {
    email: string;
    _csrf?: string;
}
export type PaymentBody = {
    provider: string;
    token?: string;
    _csrf?: string;
} & Record<string, string | undefined>;
export interface ConfirmBody {
    token: string;
    _csrf?: string;
}
