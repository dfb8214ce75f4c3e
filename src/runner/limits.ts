/**
 * Per-task limits, throttles and job groups, counted by the runner: a task's own
 * `concurrency` and `rateLimit` (from its definition), a job's `throttle` key, and a
 * job's `group` (its limits: the group's own settings, stored, else its task's
 * `groups`, else the queue's `groups`; a paused group's jobs wait). A due job whose
 * limit is full is parked, and goes back to the index in its order when its group
 * has room again. A job that needs the network (`network: true`) is parked the same
 * way while the browser is offline ({@link NETWORK}), until it is online again.
 */
import type { GroupLimits } from '../shared/options.js'
import type { WorkerManifest } from '../shared/protocol.js'
import type { GroupRecord, JobRecord } from '../store/store.js'
import { clearLongTimeout, setUnchainedTimeout, type LongTimer } from '../shared/timers.js'

/** The group of the jobs that wait for the network. */
export const NETWORK = 'network'

/** The prefix of a job group's name among the limited groups (`group:` and its id). */
export const GROUP_PREFIX = 'group:'

interface Group {
  group: string
  concurrency?: number
  rate?: { max: number; per: number }
  /** A paused group (`queue.groups.pause`): its jobs wait until it is resumed. */
  paused?: boolean
}

/** Where the limits of job groups come from, besides their task's `groups`. */
export interface GroupSource {
  /** The queue's `groups` option: every group's limits. */
  readonly queue: GroupLimits | undefined
  /** Group `id`'s own settings (`queue.groups.set`, `.pause`), as stored. */
  own(id: string): GroupRecord | undefined
}

const NO_GROUPS: GroupSource = { queue: undefined, own: () => undefined }

/** Running counts, recent starts and parked jobs of every limited group. */
export class Limits {
  #manifest: () => WorkerManifest | undefined
  #onRoom: (jobs: JobRecord[]) => void
  #running = new Map<string, number>()
  #starts = new Map<string, number[]>()
  #parked = new Map<string, JobRecord[]>()
  #parkedIds = new Set<string>()
  #timers = new Map<string, LongTimer>()
  #online: () => boolean
  #groups: GroupSource

  /**
   * @param manifest - the worker module's tasks (their limits)
   * @param onRoom - parked jobs whose group has room again, in their order
   * @param online - whether the browser says it is online (see network.ts)
   * @param groups - the limits of job groups: the queue's, and each group's own
   */
  constructor(
    manifest: () => WorkerManifest | undefined,
    onRoom: (jobs: JobRecord[]) => void,
    online: () => boolean = () => true,
    groups: GroupSource = NO_GROUPS,
  ) {
    this.#manifest = manifest
    this.#onRoom = onRoom
    this.#online = online
    this.#groups = groups
  }

  /**
   * The settings of job groups changed (a limit raised, a group resumed): their parked
   * jobs go back to the index, and wait again if they must.
   *
   * @param ids - the groups whose settings changed; all of them when not given
   */
  groupsChanged(ids?: Iterable<string>): void {
    const names = ids ? [...ids].map((id) => GROUP_PREFIX + id) : [...this.#parked.keys()].filter((name) => name.startsWith(GROUP_PREFIX))
    for (const name of names) this.#release(name)
  }

  /** How many jobs of group `id` (`JobOptions.group`) this runner runs now. */
  running(id: string): number {
    return this.#running.get(GROUP_PREFIX + id) ?? 0
  }

  /** Whether the job needs the network: its own option, or its task's. */
  needsNetwork(job: JobRecord): boolean {
    return job.options.network === true || this.#manifest()?.tasks[job.name]?.network === true
  }

  /** The browser is online again: the jobs that wait for the network go back. */
  online(): void {
    this.#release(NETWORK)
  }

  /** Jobs parked now. */
  get parked(): number {
    return this.#parkedIds.size
  }

  /** Whether job `id` is parked. */
  isParked(id: string): boolean {
    return this.#parkedIds.has(id)
  }

  /**
   * Whether any limit applies to the job, or it needs the network: such jobs are not batched
   * nor queued behind another (each is checked by {@link full} as it starts).
   */
  applies(job: JobRecord): boolean {
    return this.#groupsOf(job).some(limited) || this.needsNetwork(job)
  }

  /** The group whose limit the job would pass if it started now, if any. */
  full(job: JobRecord): string | undefined {
    if (!this.#online() && this.needsNetwork(job)) return NETWORK
    const now = Date.now()
    for (const { group, concurrency, rate, paused } of this.#groupsOf(job)) {
      if (paused) return group
      if (concurrency !== undefined && (this.#running.get(group) ?? 0) >= concurrency) return group
      if (!rate) continue
      const starts = (this.#starts.get(group) ?? []).filter((t) => t > now - rate.per)
      this.#starts.set(group, starts)
      if (starts.length < rate.max) continue
      // Wake when the oldest start leaves the window.
      if (!this.#timers.has(group)) {
        const wait = (starts[0] as number) + rate.per - now
        this.#timers.set(
          group,
          setUnchainedTimeout(
            () => {
              this.#timers.delete(group)
              this.#release(group)
            },
            Math.max(0, wait),
          ),
        )
      }
      return group
    }
    return undefined
  }

  /** Whether the job's group is paused (`queue.groups.pause`). */
  paused(job: JobRecord): boolean {
    const id = job.options.group
    return id !== undefined && this.#groups.own(id)?.paused === true
  }

  /** The job started. */
  count(job: JobRecord, now: number): void {
    for (const { group, rate } of this.#groupsOf(job)) {
      this.#running.set(group, (this.#running.get(group) ?? 0) + 1)
      if (rate) this.#starts.set(group, [...(this.#starts.get(group) ?? []), now])
    }
  }

  /**
   * The job counted at `reservedAt` was sent to its worker at `now` (once its
   * `running` state committed): its start counts from then in rate windows.
   */
  started(job: JobRecord, reservedAt: number, now: number): void {
    // The hot path: nothing to do unless some rate window is counting.
    if (now === reservedAt || this.#starts.size === 0) return
    for (const { group, rate } of this.#groupsOf(job)) {
      const starts = rate && this.#starts.get(group)
      if (!starts) continue
      const at = starts.indexOf(reservedAt)
      if (at < 0) continue
      starts.splice(at, 1)
      starts.push(now)
      starts.sort((a, b) => a - b)
    }
  }

  /** The job ended: its groups have room. */
  uncount(job: JobRecord): void {
    for (const { group } of this.#groupsOf(job)) {
      const count = this.#running.get(group)
      if (count === undefined) continue
      if (count <= 1) this.#running.delete(group)
      else this.#running.set(group, count - 1)
      this.#release(group)
    }
  }

  park(job: JobRecord, group: string): void {
    const list = this.#parked.get(group)
    if (list) list.push(job)
    else this.#parked.set(group, [job])
    this.#parkedIds.add(job.id)
  }

  /** Takes one parked job out (it was cancelled). */
  unpark(id: string): JobRecord | undefined {
    if (!this.#parkedIds.delete(id)) return undefined
    for (const [group, list] of this.#parked) {
      const at = list.findIndex((job) => job.id === id)
      if (at < 0) continue
      const [job] = list.splice(at, 1)
      if (list.length === 0) this.#parked.delete(group)
      return job
    }
    return undefined
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearLongTimeout(timer)
    this.#timers.clear()
  }

  #release(group: string): void {
    const list = this.#parked.get(group)
    if (!list) return
    this.#parked.delete(group)
    for (const job of list) this.#parkedIds.delete(job.id)
    this.#onRoom(list)
  }

  #groupsOf(job: JobRecord): Group[] {
    const groups: Group[] = []
    const meta = this.#manifest()?.tasks[job.name]
    if (meta && (meta.concurrency !== undefined || meta.rateLimit !== undefined)) {
      const group: Group = { group: `task:${job.name}` }
      if (meta.concurrency !== undefined) group.concurrency = meta.concurrency
      if (meta.rateLimit !== undefined) group.rate = meta.rateLimit
      groups.push(group)
    }
    const throttle = job.options.throttle
    if (throttle) groups.push({ group: `throttle:${throttle.key}`, rate: { max: throttle.max, per: throttle.window } })
    const id = job.options.group
    if (id !== undefined) {
      // Always counted (limited or not): a limit set while its jobs run finds them counted.
      const own = this.#groups.own(id)
      const limits = own?.limits ?? meta?.groups ?? this.#groups.queue
      const group: Group = { group: GROUP_PREFIX + id }
      if (limits?.concurrency !== undefined) group.concurrency = limits.concurrency
      if (limits?.rateLimit !== undefined) group.rate = limits.rateLimit
      if (own?.paused) group.paused = true
      groups.push(group)
    }
    return groups
  }
}

/** Whether a group's limit holds a job back: a concurrency, a rate, or a pause. */
const limited = (group: Group): boolean => group.concurrency !== undefined || group.rate !== undefined || group.paused === true
