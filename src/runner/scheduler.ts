/**
 * Schedules: persisted repeating jobs (`cron` through croner, or `every` ms).
 * Only the runner tab fires them. A run missed while no tab ran the queue
 * runs once when one does (`onMissed: 'once'`), or not (`'skip'`); a run
 * whose previous job is still unfinished is skipped unless `overlap: true`.
 */
import type { Cron as CronClass } from 'croner'
import { invalidOption, resolveJobOptions } from '../shared/options.js'
import type { ScheduleRecord, Store } from '../store/store.js'
import { clearLongTimeout, setUnchainedTimeout, toError, type LongTimer } from '../shared/timers.js'
import type { JobOptions } from '../shared/types.js'

/** Options of `queue.schedule(name, options)`. */
export interface ScheduleOptions<D = unknown> {
  /** A stable id: scheduling again with it replaces that schedule. */
  id: string
  /** A cron pattern (5 or 6 fields, seconds first when 6), read by croner. Give `cron` or `every`. */
  cron?: string
  /** Every this many ms. Give `cron` or `every`. */
  every?: number
  /** The input of each job. */
  data?: D
  /** Options of each job (no `id`, `key`, `delay`, `runAt`, `dependsOn`, `debounce`). */
  options?: Omit<JobOptions, 'id' | 'key' | 'delay' | 'runAt' | 'dependsOn' | 'debounce' | 'transfer'>
  /**
   * What to do about runs missed while no tab ran the queue: run once, or skip them.
   * @defaultValue 'once'
   */
  onMissed?: 'once' | 'skip'
  /**
   * Start a run while the previous one is unfinished.
   * @defaultValue false
   */
  overlap?: boolean
}

/** A schedule as `schedule()` and `schedules.list()` show it. */
export interface Schedule {
  readonly id: string
  readonly name: string
  readonly cron?: string
  readonly every?: number
  readonly paused: boolean
  readonly nextRunAt: number
  readonly lastRunAt?: number
  readonly lastJobId?: string
  readonly onMissed: 'once' | 'skip'
  readonly overlap: boolean
}

let Cron: typeof CronClass | undefined

/**
 * Loads croner, the first time a cron schedule is created, resumed or read from the
 * store: a page without one never downloads it. Call before {@link nextRunAfter} or
 * {@link resolveSchedule} of a cron schedule.
 */
export async function loadCron(): Promise<void> {
  Cron ??= (await import('croner')).Cron
}

/** Whether `value` (options or a record) has a cron pattern, so croner must be loaded first. */
export function needsCron(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { cron?: unknown }).cron !== undefined
}

function cron(pattern: string): InstanceType<typeof CronClass> {
  if (!Cron) throw new Error('offthread: croner is not loaded yet (a bug: loadCron() comes first)')
  return new Cron(pattern, { paused: true })
}

/** The first run of `schedule` strictly after `after`. */
export function nextRunAfter(schedule: Pick<ScheduleRecord, 'cron' | 'every' | 'nextRunAt'>, after: number): number {
  if (schedule.every !== undefined) {
    // Keep the rhythm: the next slot of the same grid, not `after + every`.
    const base = schedule.nextRunAt
    if (base > after) return base
    const steps = Math.floor((after - base) / schedule.every) + 1
    return base + steps * schedule.every
  }
  const next = cron(schedule.cron as string).nextRun(new Date(after))
  return next ? next.getTime() : Number.POSITIVE_INFINITY
}

/** Validates `schedule(name, options)` and builds its record (keeping what an earlier version ran). */
export function resolveSchedule(name: unknown, value: unknown, now: number, previous: ScheduleRecord | undefined): ScheduleRecord {
  if (typeof name !== 'string' || name.length === 0) throw invalidOption('name', 'a task name', name)
  if (typeof value !== 'object' || value === null) throw invalidOption('options', 'an object { id, cron | every, data?, … }', value)
  const options = value as ScheduleOptions & Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!['id', 'cron', 'every', 'data', 'options', 'onMissed', 'overlap'].includes(key)) {
      throw new TypeError(`Unknown option "${key}": expected one of id, cron, every, data, options, onMissed, overlap`)
    }
  }
  if (typeof options.id !== 'string' || options.id.length === 0) throw invalidOption('id', 'a non-empty string', options.id)
  if ((options.cron === undefined) === (options.every === undefined)) {
    throw new TypeError('Invalid options: give exactly one of "cron" and "every"')
  }
  if (options.cron !== undefined) {
    if (typeof options.cron !== 'string') throw invalidOption('cron', 'a cron pattern', options.cron)
    try {
      cron(options.cron)
    } catch (error) {
      throw new TypeError(`Invalid option "cron": ${(error as Error).message}, received ${JSON.stringify(options.cron)}`, { cause: error })
    }
  }
  if (options.every !== undefined && (typeof options.every !== 'number' || !Number.isFinite(options.every) || options.every <= 0)) {
    throw invalidOption('every', 'a positive number of ms', options.every, RangeError)
  }
  const onMissed = options.onMissed === undefined ? 'once' : options.onMissed
  if (onMissed !== 'once' && onMissed !== 'skip') throw invalidOption('onMissed', "'once' or 'skip'", onMissed)
  if (options.overlap !== undefined && typeof options.overlap !== 'boolean') throw invalidOption('overlap', 'a boolean', options.overlap)
  const jobOptions = (options.options === undefined ? {} : options.options) as Record<string, unknown>
  if (typeof jobOptions !== 'object' || jobOptions === null) throw invalidOption('options', 'an object of job options', jobOptions)
  for (const key of ['id', 'key', 'delay', 'runAt', 'dependsOn', 'debounce', 'transfer']) {
    if (key in jobOptions) throw new TypeError(`Invalid option "options.${key}": a schedule sets it for each run`)
  }
  resolveJobOptions(jobOptions, now) // validates; stored as given (plain data)
  try {
    structuredClone(options.data)
  } catch (error) {
    throw new TypeError('Invalid option "data": it cannot be structured-cloned', { cause: error })
  }
  const record: ScheduleRecord = {
    id: options.id,
    name,
    data: options.data,
    options: jobOptions,
    onMissed,
    overlap: options.overlap ?? false,
    paused: previous?.paused ?? false,
    nextRunAt: 0,
    createdAt: previous?.createdAt ?? now,
  }
  if (options.cron !== undefined) record.cron = options.cron
  if (options.every !== undefined) record.every = options.every
  if (previous?.lastRunAt !== undefined) record.lastRunAt = previous.lastRunAt
  if (previous?.lastJobId !== undefined) record.lastJobId = previous.lastJobId
  record.nextRunAt = record.every !== undefined ? now + record.every : nextRunAfter(record, now)
  return record
}

/** What `schedules.list()` shows of a record. */
export function toSchedule(record: ScheduleRecord): Schedule {
  const out: { -readonly [K in keyof Schedule]: Schedule[K] } = {
    id: record.id,
    name: record.name,
    paused: record.paused,
    nextRunAt: record.nextRunAt,
    onMissed: record.onMissed,
    overlap: record.overlap,
  }
  if (record.cron !== undefined) out.cron = record.cron
  if (record.every !== undefined) out.every = record.every
  if (record.lastRunAt !== undefined) out.lastRunAt = record.lastRunAt
  if (record.lastJobId !== undefined) out.lastJobId = record.lastJobId
  return out
}

/** What the scheduler needs from its queue. */
export interface SchedulerHost {
  readonly store: Store
  /** Adds the schedule's job and stores `next` (its new state) in one transaction; null when skipped. */
  fire(schedule: ScheduleRecord, next: ScheduleRecord, run: boolean): Promise<void>
  /** Whether job `id` is final (or gone). */
  isDone(id: string): Promise<boolean>
  error(error: Error): void
}

/** Fires the due schedules of the runner tab. */
export class Scheduler {
  #host: SchedulerHost
  #timer: LongTimer | undefined
  #schedules: ScheduleRecord[] = []
  #stopped = false
  #ticking: Promise<void> | undefined

  constructor(host: SchedulerHost) {
    this.#host = host
  }

  /** (Re)reads the schedules and fires what is due, missed runs included. */
  async load(): Promise<void> {
    if (this.#stopped) return
    await this.#ticking
    const schedules = await this.#host.store.schedules()
    if (schedules.some(needsCron)) await loadCron()
    this.#schedules = schedules
    await this.#tick()
  }

  stop(): void {
    this.#stopped = true
    clearLongTimeout(this.#timer)
  }

  #arm(): void {
    clearLongTimeout(this.#timer)
    if (this.#stopped) return
    const next = Math.min(...this.#schedules.filter((s) => !s.paused).map((s) => s.nextRunAt))
    if (!Number.isFinite(next)) return
    this.#timer = setUnchainedTimeout(() => void this.#tick(), next - Date.now())
  }

  #tick(): Promise<void> {
    this.#ticking = (async () => {
      const now = Date.now()
      for (const [i, schedule] of this.#schedules.entries()) {
        if (this.#stopped || schedule.paused || schedule.nextRunAt > now) continue
        let nextRunAt: number
        try {
          nextRunAt = nextRunAfter(schedule, now)
        } catch (error) {
          // A pattern the cron library no longer reads: it never fires again (and says why once).
          this.#host.error(toError(error))
          nextRunAt = Number.POSITIVE_INFINITY
        }
        const next: ScheduleRecord = { ...schedule, nextRunAt }
        try {
          const interval = schedule.every ?? nextRunAfter(schedule, schedule.nextRunAt) - schedule.nextRunAt
          // Later than a whole interval (and a second): no tab ran the queue then.
          const missed = now - schedule.nextRunAt > Math.max(1000, interval)
          let run = !(missed && schedule.onMissed === 'skip')
          if (run && !schedule.overlap && schedule.lastJobId !== undefined) run = await this.#host.isDone(schedule.lastJobId)
          await this.#host.fire(schedule, next, run)
        } catch (error) {
          // This run failed (a task the worker lacks, a full disk): it is reported once, and the
          // schedule moves on to its next time; it never fires in a loop.
          this.#host.error(toError(error))
          await this.#host.fire(schedule, next, false).catch(() => undefined)
        }
        this.#schedules[i] = next
      }
      this.#arm()
    })()
    return this.#ticking
  }
}
