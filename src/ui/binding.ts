/**
 * What the UI bindings (react.ts, vue.ts) share: telling a queue from a handle, the
 * look-up of no id, and the counts before any read. (The key of a watched query is the
 * queue's own: `queryKey`, queue/live.ts.)
 */
import type { JobLookup } from '../queue/live.js'
import type { Queue } from '../queue/queue.js'
import { JOB_STATUSES, type JobStatus, type TaskMap } from '../shared/types.js'

/** Whether `useJob` was given a queue (then the second argument is a job id). */
export function isQueue(value: unknown): value is Queue<TaskMap> {
  return typeof value === 'object' && value !== null && typeof (value as { watchJob?: unknown }).watchJob === 'function'
}

/** No id to look up: nothing to show, and nothing to wait for. */
export const NO_ID: JobLookup = Object.freeze({ state: 'missing', job: undefined, handle: undefined, error: undefined })

/** Every status at zero: the counts until they are read (and in a server render). */
export const ZERO_COUNTS = Object.freeze(Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]))) as Readonly<Record<JobStatus, number>>

export { queryKey } from '../queue/live.js'
