import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';

/*
 * Native bcrypt: hashing and comparing run on libuv's thread pool, never on the event loop, so a
 * flood of wrong passwords slows sign-ins, not every other request.
 */

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

/** One throwaway digest per cost, made on first use (of a random password nobody knows). */
const decoys = new Map<number, Promise<string>>();

function decoyDigest(cost: number): Promise<string> {
  let decoy = decoys.get(cost);
  if (!decoy) {
    decoy = bcrypt.hash(randomBytes(24).toString('base64'), cost);
    decoys.set(cost, decoy);
  }
  return decoy;
}

/**
 * Compares against the user's digest, or, for an unknown email, against a decoy made at the
 * configured cost: both cost the same, so timing does not reveal which emails exist.
 */
export async function verifyPassword(password: string, digest: string | null, cost: number): Promise<boolean> {
  if (digest === null) {
    await bcrypt.compare(password, await decoyDigest(cost));
    return false;
  }
  return bcrypt.compare(password, digest);
}

/** Makes the decoy for `cost` ahead of the first sign-in (so the first unknown email costs no more than a known one). */
export function prepareDecoy(cost: number): Promise<void> {
  return decoyDigest(cost).then(() => undefined);
}
