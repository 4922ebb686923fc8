/** The version of @kassa/core that plugins' `coreRange` is checked against. A test keeps it equal to package.json. */
export const coreVersion = '0.1.0';
