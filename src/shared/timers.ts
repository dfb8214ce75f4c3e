/**
 * Timers that take any delay. `setTimeout` fires at once for a delay above
 * 2³¹−1 ms (about 24.8 days), so a longer one is armed again on the way.
 */

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/** A timer from {@link setLongTimeout}; pass it to {@link clearLongTimeout}. */
export interface LongTimer {
  id: ReturnType<typeof setTimeout> | undefined
  /** Set by {@link clearLongTimeout}. */
  cleared?: boolean
}

/** Calls `fn` after `ms` milliseconds, however many (Infinity: never). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const timer: LongTimer = { id: undefined }
  if (!(ms < Infinity)) return timer
  const due = Date.now() + Math.max(0, ms)
  const arm = (): void => {
    const left = due - Date.now()
    if (left > MAX_TIMER_DELAY) timer.id = setTimeout(arm, MAX_TIMER_DELAY)
    else timer.id = setTimeout(fn, Math.max(0, left))
  }
  arm()
  return timer
}

/** Cancels a {@link setLongTimeout} timer (undefined is ignored). */
export function clearLongTimeout(timer: LongTimer | undefined): void {
  if (!timer) return
  clearTimeout(timer.id)
  timer.cleared = true
}

/**
 * {@link setLongTimeout} whose `fn` runs in a task of its own (a message), not in the
 * timer's: a timer that `fn` arms is then no chained timer. Chrome wakes chained timers
 * (set from a timer, five deep) of a tab hidden 5 minutes at most once a minute; the
 * runner's delayed jobs, rate limits and schedules re-arm their timer when it fires.
 */
export function setUnchainedTimeout(fn: () => void, ms: number): LongTimer {
  const timer = setLongTimeout(() => {
    void nextTurn().then(() => {
      if (!timer.cleared) fn()
    })
  }, ms)
  return timer
}

/**
 * Gives the page a turn (a task), so that a long loop is no long task. A message, not
 * `setTimeout(0)`: a hidden tab's timers wake at most once a second, and a runner in a
 * background tab would then wait a second per turn.
 */
export const yieldToPage = (): Promise<void> => nextTurn()

/**
 * A turn of the event loop by a message to itself: what is queued before it (a cancel
 * reaching a worker, the page's input) runs first. A message, not a timer: nested
 * timers are clamped to 4 ms, and a background tab's timers to one a second.
 */
export function nextTurn(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0))
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(null)
  })
}

/** An `Error` for anything thrown or rejected. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

/**
 * `setTimeout` that does not keep a process alive by itself (Node, Bun: `unref`; Deno:
 * `Deno.unrefTimer`): the polls of a store shared between processes.
 */
export function setUnrefTimeout(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms)
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno
  if (typeof timer === 'object' && timer !== null && typeof (timer as { unref?: unknown }).unref === 'function') {
    ;(timer as { unref(): void }).unref()
  } else if (typeof timer === 'number') {
    deno?.unrefTimer?.(timer)
  }
  return timer
}
