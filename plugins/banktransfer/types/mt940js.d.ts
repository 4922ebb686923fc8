// mt940js ships no type declarations; this is the part of its documented API Kassa uses.
declare module 'mt940js' {
  export class Parser {
    constructor(options?: { no86Structure?: boolean });
    parse(data: string, withTags?: boolean): unknown[];
  }
}
