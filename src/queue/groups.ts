/**
 * The queue's side of job groups (`JobOptions.group`): `queue.groups` stores a group's own
 * limits and its pause from any tab; the runner (runner/group-settings.ts) reads them again
 * when told (this tab's runner at once, another tab's by a `groups` message, another
 * process's by its poll of the store).
 */
import { resolveGroupId, resolveGroupLimits, type GroupLimits } from '../shared/options.js'
import type { Committer } from '../store/committer.js'
import type { Store, WriteOp } from '../store/store.js'
import type { Channel } from '../tabs/channel.js'
import type { ResolvedQueueOptions } from './options.js'
import type { QueueState } from './state.js'

/** What `queue.groups.counts(id)` tells of one group. */
export interface GroupCounts {
  /** Its jobs that wait for their turn (or for room in the group). */
  waiting: number
  /** Its jobs that wait for their time (`delay`, `runAt`, a retry's backoff). */
  delayed: number
  /** Its jobs that wait for their dependencies. */
  blocked: number
  /** Its jobs that run now. */
  running: number
  /** Whether it is paused (`queue.groups.pause`). */
  paused: boolean
  /**
   * Its limits: its own (`queue.groups.set`), else the queue's `groups` (`{}`: none). A task
   * with `groups` of its own gives its jobs those instead, unless the group has its own.
   */
  limits: GroupLimits
}

/** What `queue.groups` offers: one group's limits, pause and counts. */
export interface GroupManager {
  /**
   * Sets group `id`'s own limits, over its task's and the queue's, in every tab and after a
   * reload; `null` drops them (the task's or the queue's apply again). Its jobs waiting for
   * room are looked at again at once.
   */
  set(id: string, limits: GroupLimits | null): Promise<void>
  /** Pauses group `id`: none of its jobs starts until `resume(id)`; running ones go on. Stored. */
  pause(id: string): Promise<void>
  /** Resumes group `id`: its waiting jobs take their turns again. */
  resume(id: string): Promise<void>
  /**
   * Group `id`'s unfinished jobs by status, whether it is paused, and its limits. Counting
   * reads every unfinished job of the queue (stores keep no index by group), in pages.
   */
  counts(id: string): Promise<GroupCounts>
}

/** What the groups' manager needs from its queue. */
export interface GroupsHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly channel: Channel
}

/** Stores groups' settings and tells the runner. */
export class Groups {
  #host: GroupsHost

  constructor(host: GroupsHost) {
    this.#host = host
  }

  /** The manager behind `queue.groups`. */
  manager(): GroupManager {
    return {
      set: async (id, limits) => {
        const group = resolveGroupId('id', id)
        await this.#write({ op: 'group', id: group, limits: limits === null ? null : resolveGroupLimits('limits', limits) })
      },
      pause: async (id) => this.#write({ op: 'group', id: resolveGroupId('id', id), paused: true }),
      resume: async (id) => this.#write({ op: 'group', id: resolveGroupId('id', id), paused: false }),
      counts: async (id) => this.#counts(resolveGroupId('id', id)),
    }
  }

  async #write(op: WriteOp): Promise<void> {
    const host = this.#host
    await host.state.ready()
    if (typeof host.store.groups !== 'function') {
      throw new TypeError(`queue "${host.options.name}": its store (${host.store.kind}) keeps no group settings (it has no Store.groups)`)
    }
    const [result] = await host.committer.write([op])
    if (!result?.ok) throw new Error(`queue "${host.options.name}": the group's settings were not stored (${result?.reason ?? 'no result'})`)
    // The runner reads them again: this tab's at once, another tab's when told.
    const runner = host.state.runner
    if (runner) await runner.groupsChanged()
    else host.channel.post({ type: 'groups' })
  }

  async #counts(id: string): Promise<GroupCounts> {
    const host = this.#host
    await host.state.ready()
    const counts = { waiting: 0, delayed: 0, blocked: 0, running: 0 }
    const [own] = await Promise.all([
      (host.store.groups?.() ?? Promise.resolve([])).then((records) => records.find((record) => record.id === id)),
      host.store.scan(['waiting', 'delayed', 'blocked', 'running'], (job) => {
        if (job.options.group === id) counts[job.status as keyof typeof counts]++
      }),
    ])
    return { ...counts, paused: own?.paused === true, limits: { ...(own?.limits ?? host.options.groups ?? {}) } }
  }
}
