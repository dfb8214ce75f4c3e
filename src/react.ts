/**
 * offthread/react: React hooks over a queue's live views, built on React's
 * `useSyncExternalStore`. A component re-renders at most once per animation
 * frame, however fast its jobs report progress. React (18 or later) is an
 * optional peer dependency: only this entry needs it.
 *
 * @example
 * ```ts
 * import { useJob, useJobs, useCounts, useRole } from 'offthread/react'
 *
 * const snap = useJob(handle) // JobSnapshot<R, P>, live
 * const same = useJob(queue, id) // by id: undefined until read, and once deleted
 * const running = useJobs(queue, { status: 'running' }) // live list, newest first
 * const counts = useCounts(queue) // Record<JobStatus, number>, live
 * const role = useRole(queue) // 'runner' | 'follower'
 * ```
 *
 * @packageDocumentation
 */
export { useCounts, useJob, useJobs, useQueueError, useRole } from './ui/react.js'
export type { JobLookup, JobLookupState, LiveCounts, LiveJobs, LiveState } from './ui/react.js'
