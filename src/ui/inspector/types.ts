/**
 * What the inspector uses of a queue: any `Queue`, whatever its task map (a
 * `Queue<Tasks>` is one), and the pieces it is made of.
 */
import type { JobHandle } from '../../queue/handle.js'
import type { JobSnapshot, JobStatus, ListOptions, Progress, QueueRole } from '../../shared/types.js'

/** The job events after which the jobs a list shows may have changed. */
export type JobEvent = 'added' | 'started' | 'retrying' | 'requeued' | 'completed' | 'failed' | 'cancelled'

/** The queue an inspector shows: the methods of `Queue` it calls, typed for any task map. */
export interface InspectedQueue {
  readonly name: string
  readonly role: QueueRole
  /** Whether this tab's calls wait on a database another tab holds. */
  readonly storageBlocked?: boolean
  /** The runner's release, as stored. */
  readonly runner?: { readonly version: string | number } | undefined
  list(options?: ListOptions): Promise<JobSnapshot[]>
  counts(): Promise<Record<JobStatus, number>>
  getJob(id: string): Promise<JobHandle | undefined>
  retry(id: string): Promise<JobHandle>
  remove(id: string): Promise<boolean>
  on(event: JobEvent, listener: (job: { readonly id: string }) => void): () => void
  on(event: 'progress', listener: (job: { readonly id: string }, progress: Progress) => void): () => void
  on(event: 'removed', listener: (ids: readonly string[]) => void): () => void
  on(event: 'role', listener: (role: QueueRole) => void): () => void
}
