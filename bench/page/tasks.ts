// The task bodies every contender runs, the same code in each worker.

/** Busy-waits `ms` of CPU. */
export function burn(ms: number): number {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x++
  return x
}

export const noop = (): null => null

/** S12: `ms` of CPU on a file's bytes, giving `out` bytes back (a thumbnail, say). */
export function mix({ bytes, ms, out }: { bytes: Uint8Array; ms: number; out: number }): Uint8Array {
  burn(ms)
  const result = new Uint8Array(out)
  result[0] = bytes[0] ?? 0
  return result
}
