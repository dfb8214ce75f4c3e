/**
 * The queue's side of schedules: `schedule()` and the `schedules` manager
 * store them from any tab; the runner tab's {@link Scheduler} (scheduler.ts)
 * fires them, and a change is told to it wherever it runs.
 */
import { unknownTask } from '../shared/errors.js'
import type { JobHandle } from './handle.js'
import { newId } from '../shared/ids.js'
import { resolveJobOptions } from '../shared/options.js'
import type { Committer, FencedWriter } from '../store/committer.js'
import type { Store } from '../store/store.js'
import type { Channel } from '../tabs/channel.js'
import type { Inserter } from './insert.js'
import type { QueueState } from './state.js'
import type { Schedule, ScheduleOptions, Scheduler } from '../runner/scheduler.js'

/**
 * The scheduler's code (and, through it, croner's) is imported on first use: a page
 * whose queue has no schedule never loads it.
 */
type SchedulerModule = typeof import('../runner/scheduler.js')
let schedulerModule: Promise<SchedulerModule> | undefined
const scheduling = (): Promise<SchedulerModule> => (schedulerModule ??= import('../runner/scheduler.js'))
import type { ScheduleRecord } from '../store/store.js'
import { isFinal } from '../shared/types.js'

/** What `queue.schedules` offers. */
export interface ScheduleManager {
  list(): Promise<Schedule[]>
  pause(id: string): Promise<Schedule>
  resume(id: string): Promise<Schedule>
  remove(id: string): Promise<boolean>
  trigger(id: string): Promise<JobHandle>
}

/** What schedules need from their queue. */
export interface SchedulesHost {
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly channel: Channel
  /** The worker module's tasks, when this tab can know them. */
  readonly releases: { tasks(within: number): Promise<Record<string, { priority?: number }> | undefined> }
  /** Stores prepared jobs and hands them to the runner. */
  readonly inserter: Pick<Inserter, 'persist'>
}

/** Stores a queue's schedules, and fires them while this tab is the runner. */
export class Schedules {
  #host: SchedulesHost
  #scheduler: Scheduler | undefined

  constructor(host: SchedulesHost) {
    this.#host = host
  }

  /** The runner's token: a schedule fired by a runner that lost its place writes nothing. */
  #fence: FencedWriter | undefined

  /** Whether this tab is the runner (it fires the schedules). */
  #active = false

  /**
   * This tab became the runner: fire the stored schedules from now on (fenced with
   * `fence`'s token). The scheduler is loaded only once a schedule exists.
   */
  start(fence?: FencedWriter): void {
    this.#fence = fence
    this.#active = true
    // Not awaited: firing a schedule adds a job, which waits for the queue to be open.
    void (async () => {
      if ((await this.#host.store.schedules()).length > 0) await this.#load()
    })().catch((error: unknown) => this.#host.state.report(error as Error))
  }

  stop(): void {
    this.#active = false
    this.#scheduler?.stop()
    this.#scheduler = undefined
  }

  /** Another tab changed the schedules: the runner here reads them again. */
  reload(): void {
    if (this.#active) this.#load().catch((error: unknown) => this.#host.state.report(error as Error))
  }

  /** The runner's scheduler, made on first need, (re)reads the schedules. */
  async #load(): Promise<void> {
    const { Scheduler } = await scheduling()
    if (!this.#active) return
    const store = this.#host.store
    this.#scheduler ??= new Scheduler({
      store,
      fire: (schedule, next, run) => this.#fire(schedule, next, run),
      isDone: async (id) => {
        const [job] = await store.get([id])
        return !job || isFinal(job.status)
      },
      error: (error) => this.#host.state.report(error),
    })
    await this.#scheduler.load()
  }

  /** Validates and stores a schedule (see `Queue.schedule`). */
  async schedule(name: string, options: ScheduleOptions): Promise<Schedule> {
    const host = this.#host
    await host.state.ready()
    const manifest = await host.releases.tasks(1000)
    if (manifest && !(name in manifest)) {
      throw unknownTask(name, Object.keys(manifest))
    }
    const id = (options as { id?: unknown } | undefined)?.id
    const previous = typeof id === 'string' ? (await host.store.schedules()).find((s) => s.id === id) : undefined
    const { needsCron, loadCron, resolveSchedule, toSchedule } = await scheduling()
    if (needsCron(options)) await loadCron()
    const record = resolveSchedule(name, options, Date.now(), previous)
    await host.committer.write([{ op: 'schedule', schedule: record }])
    this.#changed()
    return toSchedule(record)
  }

  /** The manager behind `queue.schedules`. */
  manager(): ScheduleManager {
    const host = this.#host
    const find = async (id: string): Promise<ScheduleRecord> => {
      await host.state.ready()
      const found = (await host.store.schedules()).find((s) => s.id === id)
      if (!found) throw new TypeError(`No schedule has the id "${id}"`)
      return found
    }
    const update = async (record: ScheduleRecord): Promise<Schedule> => {
      const { toSchedule } = await scheduling()
      await host.committer.write([{ op: 'schedule', schedule: record }])
      this.#changed()
      return toSchedule(record)
    }
    return {
      list: async () => {
        await host.state.ready()
        const [stored, { toSchedule }] = await Promise.all([host.store.schedules(), scheduling()])
        return stored.map(toSchedule)
      },
      pause: async (id) => update({ ...(await find(id)), paused: true }),
      resume: async (id) => {
        const found = await find(id)
        const { needsCron, loadCron, nextRunAfter } = await scheduling()
        if (needsCron(found)) await loadCron()
        // Runs missed while paused are not "missed": start from now.
        return update({ ...found, paused: false, nextRunAt: nextRunAfter(found, Date.now()) })
      },
      remove: async (id) => {
        await host.state.ready()
        const exists = (await host.store.schedules()).some((s) => s.id === id)
        if (!exists) return false
        await host.committer.write([{ op: 'unschedule', id }])
        this.#changed()
        return true
      },
      trigger: async (id) => {
        const found = await find(id)
        const now = Date.now()
        const jobId = newId()
        const options = resolveJobOptions({ ...found.options, id: jobId }, now)
        const fired: ScheduleRecord = { ...found, lastRunAt: now, lastJobId: jobId }
        const [handle] = await host.inserter.persist([{ name: found.name, data: found.data, options }], true, now, [
          { op: 'schedule', schedule: fired, fired: 'trigger' },
        ])
        this.#changed()
        if (!handle) throw new TypeError(`No schedule has the id "${id}"`)
        return handle
      },
    }
  }

  /**
   * A schedule is due: add its job (unless skipped) and store its next run, in
   * one transaction, on condition that the schedule still exists.
   */
  async #fire(schedule: ScheduleRecord, next: ScheduleRecord, run: boolean): Promise<void> {
    if (!run) {
      // Only its run is written, onto the stored schedule: a pause or remove made meanwhile stands.
      await (this.#fence ?? this.#host.committer).write([{ op: 'schedule', schedule: next, fired: 'due' }])
      return
    }
    const now = Date.now()
    const id = newId()
    const fired: ScheduleRecord = { ...next, lastRunAt: now, lastJobId: id }
    const options = resolveJobOptions({ ...schedule.options, id }, now)
    const [added] = await this.#host.inserter.persist([{ name: schedule.name, data: schedule.data, options }], true, now, [
      { op: 'schedule', schedule: fired, fired: 'due', fence: this.#fence?.token },
    ])
    // Nothing added: the schedule is gone, or this runner lost its place (the fenced writer finds out which).
    if (!added && this.#fence) await this.#fence.write([{ op: 'schedule', schedule: next, fired: 'due' }])
    next.lastRunAt = now
    next.lastJobId = id
  }

  /** Schedules changed: the runner (this tab, or another) reads them again. */
  #changed(): void {
    if (this.#active) this.#load().catch((error: unknown) => this.#host.state.report(error as Error))
    else this.#host.channel.post({ type: 'schedules' })
  }
}
