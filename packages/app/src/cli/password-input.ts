import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError } from './cli-output';

/** Logins made from the command line get at least this many characters (the login form takes up to 1024). */
export const minPasswordLength = 10;

/** A generated password: 18 random bytes, base64url (24 characters, 144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Reads a password without echoing it. node:readline with the output muted instead of a prompt
 * library: one question, no dependency, and the same code path reads a piped line (--password-stdin).
 */
export async function readPassword(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  let muted = false;
  const rl = createInterface({
    input,
    output: new Writable({
      write(chunk: Buffer, _enc, done) {
        if (!muted) output.write(chunk);
        done();
      },
    }),
    terminal: input.isTTY === true,
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.question(prompt, (answer) => {
        if (input.isTTY) output.write('\n');
        resolve(answer);
      });
      muted = true;
      rl.once('close', () => reject(new CliError('no password given (stdin closed)')));
    });
  } finally {
    rl.close();
  }
}

/** Asks twice on a terminal; the two must match and be long enough. */
export async function promptNewPassword(): Promise<string> {
  const first = await readPassword('Password: ');
  checkPassword(first);
  const second = await readPassword('Repeat password: ');
  if (first !== second) throw new CliError('the passwords do not match');
  return first;
}

export function checkPassword(password: string): void {
  if (password.length < minPasswordLength) throw new CliError(`the password must have at least ${minPasswordLength} characters`);
  if (password.length > 1024) throw new CliError('the password must have at most 1024 characters (the login form takes no more)');
}
