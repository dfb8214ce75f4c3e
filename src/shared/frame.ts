/**
 * One callback per animation frame: what live views (handles as stores,
 * `queue.watch`) use to tell their listeners at most once a frame, however
 * fast progress arrives. Every view's callback of one frame runs from one
 * shared `requestAnimationFrame` callback, so a UI framework that renders in a
 * microtask renders once for all of them. Where there are no frames (a hidden
 * tab, a worker, Node), a timer stands in.
 */

let queued: Array<() => void> = []
let scheduled = false

function runQueued(): void {
  scheduled = false
  const callbacks = queued
  queued = []
  for (const callback of callbacks) {
    try {
      callback()
    } catch (error) {
      if (typeof reportError === 'function') reportError(error)
    }
  }
}

/** Calls `callback` once, at the next animation frame (or in 16 ms where frames do not run). */
export function nextFrame(callback: () => void): void {
  queued.push(callback)
  if (scheduled) return
  scheduled = true
  const visible = typeof document === 'undefined' || document.visibilityState !== 'hidden'
  if (typeof requestAnimationFrame === 'function' && visible) {
    // A frame may never come (the tab is hidden meanwhile): the timer is the backstop; the first wins.
    let done = false
    const once = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      runQueued()
    }
    const timer = setTimeout(once, 100)
    requestAnimationFrame(once)
    return
  }
  setTimeout(runQueued, 16)
}

/**
 * Coalesces calls into one run of `flush` per frame: `schedule()` as often as
 * you like, `flush` runs once at the next frame.
 */
export class FrameBatch {
  #flush: () => void
  #scheduled = false

  constructor(flush: () => void) {
    this.#flush = flush
  }

  /** Asks for a run of `flush` at the next frame (once, however often asked). */
  schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    nextFrame(() => {
      this.#scheduled = false
      this.#flush()
    })
  }
}
