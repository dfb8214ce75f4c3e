/**
 * A queue's latest trouble, as a store the UI bindings share: the last `error` event
 * until it clears (a `StorageBlockedError` with `blocked: false` clears the one it
 * answers). One listener on the queue while anything watches it.
 */
import type { Queue } from '../queue/queue.js'
import type { TaskMap } from '../shared/types.js'

/** The latest error of a queue, in the store contract of the live views. */
export interface QueueErrorStore {
  /** Calls `onChange` after each change; returns the unsubscribe function (a function of no `this`: pass it as it is). */
  readonly subscribe: (onChange: () => void) => () => void
  /** The latest error, or undefined while all is well. */
  readonly getSnapshot: () => Error | undefined
}

/** One store per queue, kept while the queue lives. */
const stores = new WeakMap<object, QueueErrorStore>()

/** The error store of `queue` (the same object for the same queue). */
export function queueErrors(queue: Queue<TaskMap>): QueueErrorStore {
  let store = stores.get(queue)
  if (store) return store
  let latest: Error | undefined
  const listeners = new Set<() => void>()
  let off: (() => void) | undefined
  store = {
    subscribe: (onChange) => {
      listeners.add(onChange)
      off ??= queue.on('error', (error) => {
        const cleared = error.name === 'StorageBlockedError' && (error as Error & { blocked?: boolean }).blocked === false
        latest = cleared ? (latest?.name === 'StorageBlockedError' ? undefined : latest) : error
        for (const listener of [...listeners]) listener()
      })
      return () => {
        listeners.delete(onChange)
        if (listeners.size === 0) {
          off?.()
          off = undefined
        }
      }
    },
    getSnapshot: () => latest,
  }
  stores.set(queue, store)
  return store
}
