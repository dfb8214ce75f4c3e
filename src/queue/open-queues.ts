/**
 * The queues open in this page, by name: a second `createQueue` of an open name (a
 * module re-run by hot reload) replaces the first, which closes and hands its jobs
 * over, as a closed tab would. On `globalThis`, so that two copies of offthread in one
 * page (a dev server's re-bundled dependency) share it. Tools given a queue's name only
 * (`<offthread-inspector name>`) find the open queue here, or make one that observes.
 */

/** What the page's registry keeps of a queue. */
export interface OpenQueue {
  readonly name: string
  close(options: { timeout: number }): Promise<void>
}

/** By name; the same map for every copy of offthread in the page. */
const OPEN = ((globalThis as { [key: symbol]: unknown })[Symbol.for('offthread.openQueues')] ??= new Map()) as Map<string, OpenQueue>
/** Set while an observer is made: it is not registered and replaces nothing. */
let makingObserver = false

/**
 * The queue of `name` open in this page, or else a new one that only observes, made by
 * `make` (no worker: it runs nothing and replaces nothing).
 *
 * @returns the queue, and whether the caller made it (and so closes it when done)
 */
export function observe<Q extends OpenQueue>(name: string, make: () => Q): { queue: Q; owned: boolean } {
  const open = OPEN.get(name)
  if (open) return { queue: open as Q, owned: false }
  makingObserver = true
  try {
    return { queue: make(), owned: true }
  } finally {
    makingObserver = false
  }
}

/**
 * A queue being made takes its name in this page (unless it observes, or `replace` is
 * off): the queue open under that name closes at once.
 *
 * @returns when the queue it replaced has closed; undefined when it replaced none
 */
export function takeName(queue: OpenQueue, replace: boolean): Promise<void> | undefined {
  const registers = !makingObserver && replace
  const previous = registers ? OPEN.get(queue.name) : undefined
  if (registers) OPEN.set(queue.name, queue)
  if (previous) {
    console.warn(
      `[offthread] createQueue: a queue named "${queue.name}" is open in this page (a module re-run by hot reload?); it closes and this one takes its place`,
    )
  }
  return previous?.close({ timeout: 0 }).catch(() => undefined)
}

/** A closed queue leaves its name, unless another queue took it since. */
export function leaveName(queue: OpenQueue): void {
  if (OPEN.get(queue.name) === queue) OPEN.delete(queue.name)
}
