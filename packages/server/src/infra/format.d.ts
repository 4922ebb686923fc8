/** "€12.50" for templates: core's Intl formatting of integer minor units (no floats). */
export declare function formatMoney(amount: number, currency: string, locale?: string): string;
/** Minor units as a plain decimal string for form inputs ("12.50"). */
export declare function toDecimalInput(amount: number, currency: string): string;
export declare function formatDateTime(d: Date | string | null | undefined): string;
