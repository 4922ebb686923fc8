/** The shop's URLs, spelled in one place. Slugs and codes are URL-safe by their patterns. */
export declare function eventUrl(organizer: {
    slug: string;
}, event: {
    slug: string;
}): string;
/** The buyer's order page: the secret makes the link unguessable. */
export declare function orderUrl(organizer: {
    slug: string;
}, event: {
    slug: string;
}, order: {
    code: string;
    secret: string;
}): string;
