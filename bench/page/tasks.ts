// The task bodies every contender runs, the same code in each worker.

/** Busy-waits `ms` of CPU. */
export function burn(ms: number): number {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) x++
  return x
}

export const noop = (): null => null
