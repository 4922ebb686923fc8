import { Order, OrderPayment, type Event, type OrderSums } from '@kassa/core';
import type { ShopEvent } from './catalog';
import { type ShopContext } from './shop-context';
import type { ResolvedView } from './provider-views';
/** An order reached through its secret link, with what its page shows. */
export interface LoadedOrder {
    order: Order;
    sums: OrderSums;
    payments: OrderPayment[];
}
/**
 * The order behind `/order/:code/:secret/`. A wrong secret answers exactly like an unknown code
 * (NOT_FOUND), and the secret is compared in constant time, so the link cannot be guessed or probed.
 */
export declare function loadOrderBySecret(shop: ShopContext, event: Event, code: string, secret: string): Promise<LoadedOrder>;
/** Whether the buyer may start a new payment (retry, or switch method), and why not. */
export declare function paymentChange(loaded: LoadedOrder, event: Event, shop: ShopContext): {
    allowed: true;
} | {
    allowed: false;
    reason: string;
};
/** The order page's view model: amounts formatted on the server, provider views resolved. */
export declare function orderPageView(shop: ShopContext, where: ShopEvent, loaded: LoadedOrder): Promise<{
    order: {
        total: string;
        paidSum: string | null;
        refundedSum: string | null;
        openSum: string | null;
        email: string;
        createdAt: string;
        expires: string;
        explanation: string;
        explanationKind: string;
        code: string;
        status: "pending" | "canceled" | "paid" | "expired";
        statusLabel: string;
    };
    positions: {
        no: number;
        name: string;
        price: string;
        canceled: boolean;
    }[];
    fees: {
        description: string;
        value: string;
    }[];
    payments: {
        fullId: string;
        method: string;
        amount: string;
        state: "created" | "pending" | "confirmed" | "failed" | "canceled" | "refunded";
        stateLabel: string;
        pendingView: ResolvedView | null;
    }[];
}>;
