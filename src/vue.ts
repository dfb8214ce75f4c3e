/**
 * offthread/vue: Vue composables over a queue's live views, each a read-only
 * `shallowRef` set by the view's `subscribe` and released with the effect scope
 * (`onScopeDispose`). A component re-renders at most once per animation frame,
 * however fast its jobs report progress. Vue (3.3 or later) is an optional peer
 * dependency: only this entry needs it.
 *
 * @example
 * ```ts
 * import { useJob, useJobs, useCounts, useRole } from 'offthread/vue'
 *
 * const snap = useJob(handle) // Ref<JobSnapshot<R, P>>, live; the handle may be a ref or a getter
 * const { job, state } = useJob(queue, () => props.id) // by id: state 'loading' | 'ready' | 'missing' | 'deleted' | 'error'
 * const { jobs } = useJobs(queue, { status: 'running' }) // live list, newest first
 * const { counts } = useCounts(queue) // Record<JobStatus, number>, live
 * const role = useRole(queue) // Ref<'runner' | 'follower'>
 * ```
 *
 * @packageDocumentation
 */
export { useCounts, useJob, useJobs, useQueueError, useRole } from './ui/vue.js'
export type { JobLookupState, LiveCountsRefs, LiveJobRefs, LiveJobsRefs, LiveState } from './ui/vue.js'
