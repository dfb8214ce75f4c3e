/**
 * What the Queue facade shares with the engines behind it (adding jobs,
 * schedules, cross-tab plumbing, live handles). Each engine takes a `Pick` of
 * it, so its file says what it reaches for; none of it is public.
 */
import type { ResolvedJobOptions } from '../shared/options.js'
import type { Committer } from '../store/committer.js'
import type { Channel } from '../tabs/channel.js'
import type { Dispatcher } from '../runner/dispatcher.js'
import type { Changes } from './changes.js'
import type { Handle, JobHandle } from './handle.js'
import type { ResolvedQueueOptions } from './options.js'
import type { QueueEvents } from '../shared/types.js'
import type { Retention } from '../runner/retention.js'
import type { JobRecord, Store, WriteOp } from '../store/store.js'

/** A job checked and ready to store. */
export interface Prepared {
  name: string
  data: unknown
  options: ResolvedJobOptions
  /** A chain step: its input is this job's result. */
  inputFrom?: string
}

/** The Queue's state and services, as its engines see them. */
export interface QueueContext {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly retention: Retention
  /** The dispatcher, while this tab is the runner. */
  dispatcher(): Dispatcher | undefined
  /** Why the queue cannot be used (it closed), or undefined. */
  closed(): Error | undefined
  /** Throws once the queue closed; else waits for it to be open. */
  ready(): Promise<void>
  /** Reports the queue's own trouble (the `error` event). */
  error(error: Error): void
  /** The queue's BroadcastChannel (tabs/channel.ts). */
  readonly channel: Channel
  /** The one path every committed change takes (changes.ts). */
  readonly changes: Changes
  /** The worker module's tasks, when this tab can know them. */
  manifest(): Promise<Record<string, { priority?: number }> | undefined>
  /** Whether anyone in this tab looks at job `id`'s `event` (a live handle, or a queue listener). */
  wants(id: string, event: keyof QueueEvents): boolean
  /** The live handle of `job`, made or brought up to date. */
  handleFor(job: JobRecord, data: unknown, result?: unknown): Handle
  /** The handle of a job that was there already (an `id` or `key` taken). */
  existing(job: JobRecord): Promise<JobHandle>
  /** Stores prepared jobs and hands them to the runner. */
  persist(prepared: Prepared[], atomic: boolean, now: number, extra?: WriteOp[]): Promise<JobHandle[]>
  cancel(id: string, reason: string | undefined): Promise<boolean>
  /** The runner-side scheduler reads the schedules again (when this tab is the runner). */
  reloadSchedules(): void
}
