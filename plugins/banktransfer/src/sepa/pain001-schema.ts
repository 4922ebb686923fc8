import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';

/** Kassa's SEPA profile of pain.001.001.03 (schemas/; why our own file: docs/banktransfer.md). */
export const PAIN001_SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'schemas', 'pain.001.001.03-sepa-profile.xsd');

let schema: string | undefined;

/**
 * Validates a pain.001 file against the schema with libxml2 (xmllint compiled to WebAssembly:
 * no native build, nothing fetched). Returns the schema's complaints, each with its line; none
 * when the file is valid.
 */
export async function pain001SchemaErrors(xml: string): Promise<string[]> {
  schema ??= readFileSync(PAIN001_SCHEMA_FILE, 'utf8');
  const result = await validateXML({
    xml: [{ fileName: 'refunds.xml', contents: xml }],
    schema: [{ fileName: 'pain.001.001.03.xsd', contents: schema }],
  });
  return result.valid ? [] : result.errors.map((e) => (e.loc ? `line ${e.loc.lineNumber}: ${e.message}` : e.message));
}
