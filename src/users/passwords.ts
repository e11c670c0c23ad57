import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

/*
 * Native bcrypt: hashing and comparing run on libuv's thread pool, never on the event loop. And at
 * most (cores - 1) at once, so that a flood of wrong passwords queues behind itself instead of
 * taking every core from the requests that need none (bench/auth-bcrypt.mjs measures it).
 */
const MAX_CONCURRENT = Math.max(1, availableParallelism() - 1);
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    // hand the slot to the next in line (running stays the same), or free it
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string, cost: number): Promise<string> {
  return limited(() => bcrypt.hash(password, cost));
}

/** One throwaway digest per cost, made on first use (of a random password nobody knows). */
const decoys = new Map<number, Promise<string>>();

export function decoyDigest(cost: number): Promise<string> {
  let decoy = decoys.get(cost);
  if (!decoy) {
    decoy = limited(() => bcrypt.hash(randomBytes(24).toString('base64'), cost));
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
    const decoy = await decoyDigest(cost);
    await limited(() => bcrypt.compare(password, decoy));
    return false;
  }
  return limited(() => bcrypt.compare(password, digest));
}

/** Makes the decoy for `cost` ahead of the first sign-in (so the first unknown email costs no more than a known one). */
export function prepareDecoy(cost: number): Promise<void> {
  return decoyDigest(cost).then(() => undefined);
}
