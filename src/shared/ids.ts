/**
 * Job ids: nanoid's alphabet and length, from a pool of random bytes filled
 * 4 KiB at a time (a `crypto.getRandomValues` call per id is what made ids
 * the top cost of adding 10,000 jobs).
 */
import { customRandom, urlAlphabet } from 'nanoid'

const POOL = 4096
let pool = new Uint8Array(0)
let offset = 0

function pooled(bytes: number): Uint8Array {
  if (offset + bytes > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(Math.max(POOL, bytes)))
    offset = 0
  }
  const out = pool.subarray(offset, offset + bytes)
  offset += bytes
  return out
}

/** A new job id: 21 URL-safe characters, 126 random bits, like nanoid(). */
export const newId: () => string = customRandom(urlAlphabet, 21, pooled)
