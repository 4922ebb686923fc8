import { chmod, readFile, writeFile } from 'node:fs/promises';

/** Writes a file only its owner may read (the generated secret key, the demo login). */
export async function writePrivate(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** A JSON file written by writePrivate, or null when it is missing or unreadable. */
export async function readPrivateJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
