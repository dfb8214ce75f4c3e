/**
 * Public types shared by the main thread and the worker side, and the
 * queue's event map.
 *
 * @packageDocumentation
 */
import type { GroupLimits } from './options.js'
import type { RetryOptions } from './retry.js'

/** Where a job is in its life. `completed`, `failed` and `cancelled` are final. */
export type JobStatus = 'waiting' | 'delayed' | 'blocked' | 'running' | 'completed' | 'failed' | 'cancelled'

/** Every status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze(['waiting', 'delayed', 'blocked', 'running', 'completed', 'failed', 'cancelled'])

/** The statuses from which a job never moves on by itself. */
export const FINAL_STATUSES: readonly JobStatus[] = Object.freeze(['completed', 'failed', 'cancelled'])

/** Whether `status` is final (`completed`, `failed` or `cancelled`). */
export function isFinal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** A progress value: a percentage or any structured-cloneable object. */
export type Progress = number | object

/** An error as it is stored and sent between threads: plain data. */
export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** The stable code of an {@link OffthreadError}, or an error's own `code`. */
  code?: string
  cause?: SerializedError
}

/** One line of a job's log. */
export interface LogEntry {
  level: 'info' | 'warn' | 'error'
  message: string
  meta?: Record<string, unknown>
  timestamp: number
}

/** One failed (or interrupted) attempt of a job. */
export interface ErrorRecord {
  attempt: number
  name: string
  message: string
  stack?: string
  failedAt: number
}

/** A job as it is stored: what a handle shows. */
/**
 * A job's state at one moment.
 *
 * @typeParam R - its task's result
 * @typeParam P - its task's progress
 */
export interface JobSnapshot<R = unknown, P = Progress> {
  id: string
  name: string
  queue: string
  status: JobStatus
  /** Insertion order (a larger `seq` was added later): `list({ before: seq })` pages on from it. */
  seq?: number
  /** The job's input: in snapshots of handles that have it (the adding tab's), and in `list({ data: true })`; else `handle.data()` reads it. */
  data?: unknown
  result?: R
  error?: SerializedError
  progress?: P
  attempt: number
  priority: number
  key?: string
  createdAt: number
  runAt: number
  startedAt?: number
  finishedAt?: number
  dependencies: string[]
  /** The release of the app that added it: `createQueue({ version })`, or its worker module's fingerprint (`tasks:…`). */
  version?: string | number
  /**
   * Why a `waiting` job does not start: `'release'`, the tab running the queue is of a
   * release that does not define its task; `'network'`, the job needs the network
   * (`network: true`) and the runner's browser is offline; `'group'`, its group is paused
   * (`queue.groups.pause`; a job whose group is only full, at its concurrency, says nothing:
   * that passes as soon as one of its group ends). Why a `delayed` job waits: `'sleep'`, its
   * handler sleeps (`ctx.sleep`); `'signal'`, its handler waits for signal
   * {@link JobSnapshot.signal} (`ctx.waitFor`), sent by `queue.signal`.
   */
  waitingFor?: 'release' | 'network' | 'group' | 'sleep' | 'signal'
  /** The signal a `delayed` job waits for (`ctx.waitFor(name)`); `queue.signal(id, name, payload)` wakes it. */
  signal?: string
  /** The job's group (`JobOptions.group`), if it has one. */
  group?: string
  /**
   * For a job of a batch task (task option `batch`): how many jobs its latest run was
   * started with, in one call of the handler (itself included).
   */
  batch?: number
}

/**
 * Options of one job: the third argument of `queue.add`, a task's defaults in
 * `defineTasks`, and the queue's `defaults`.
 */
export interface JobOptions {
  /**
   * Caller-chosen id. Adding an id that exists returns the existing job's handle.
   * @defaultValue a fresh nanoid
   */
  id?: string
  /**
   * Dedup key: while a job with this key is not final, `add` returns that job's handle.
   * @defaultValue none
   */
  key?: string
  /**
   * Higher runs first; equal priority runs in insertion order.
   * @defaultValue 0
   */
  priority?: number
  /**
   * Milliseconds from now before the job may run.
   * @defaultValue 0
   */
  delay?: number
  /**
   * Absolute time (ms since epoch, or a `Date`) before which the job does not run.
   * @defaultValue now
   */
  runAt?: number | Date
  /**
   * Per-attempt time limit in ms; the attempt fails with `JobTimeoutError`.
   * @defaultValue none
   */
  timeout?: number
  /**
   * Retry policy. `attempts` counts runs, not retries.
   * @defaultValue `{ attempts: 1 }`
   */
  retry?: RetryOptions
  /**
   * Ids (or handles) of jobs this job waits for: it stays `blocked` until all
   * have completed, and ends `failed`/`cancelled` if one of them does. Each must
   * exist when the job is added (so no cycle can form).
   * @defaultValue []
   */
  dependsOn?: ReadonlyArray<string | { readonly id: string }>
  /**
   * Only the last job of a burst runs: while a job added with this debounce
   * `key` has not started, adding another replaces its data and moves its
   * start to `delay` ms from now (and returns its handle). Not with `id`,
   * `key`, `delay` or `runAt`.
   * @defaultValue none
   */
  debounce?: { key: string; delay: number }
  /**
   * At most `max` jobs with this throttle `key` start in any `window` ms; the
   * others wait their turn (in the runner tab's memory: a new runner starts a
   * fresh window).
   * @defaultValue none
   */
  throttle?: { key: string; max: number; window: number }
  /**
   * The job needs the network: it does not start while the runner tab's browser says it
   * is offline (`navigator.onLine`, the `online` and `offline` events), and an attempt
   * that fails while offline (a `TypeError`, as `fetch` throws, or the handler's own
   * `throw ctx.retry({ reason: 'offline' })`) goes back to waiting for the network
   * without using up an attempt. Other jobs are not held up. Also a task option.
   * @defaultValue false (the task's `network`)
   */
  network?: boolean
  /**
   * The job's group (a user, an album, a document: a non-empty string of at most 256
   * characters). Jobs of different groups are taken in turn (round robin), so that a group
   * with 10,000 waiting jobs does not hold up a group with one; priorities order the jobs
   * within a group. Each group's limits come from `queue.groups.set(group, …)`, else the
   * task's `groups`, else the queue's `groups`, and a group can be paused
   * (`queue.groups.pause(group)`). Persisted with the job.
   * @defaultValue none (the job belongs to no group)
   */
  group?: string
  /**
   * Transferables inside `data` to move to the worker zero-copy, once the job is stored.
   * @defaultValue []
   */
  transfer?: Transferable[]
}

/** The options a task may set for itself in `defineTasks` (long form). */
export interface TaskOptions extends Pick<JobOptions, 'timeout' | 'retry' | 'priority' | 'network'> {
  /**
   * The limits of each group of this task's jobs (see `JobOptions.group`): over the
   * queue's `groups`, under a group's own (`queue.groups.set`).
   * @defaultValue the queue's `groups`
   */
  groups?: GroupLimits
  /**
   * At most this many jobs of this task run at once (say, one `zip` while
   * thumbnails use every worker).
   * @defaultValue the pool size
   */
  concurrency?: number
  /**
   * At most `max` jobs of this task start in any `per` ms.
   * @defaultValue none
   */
  rateLimit?: { max: number; per: number }
}

/** A task's batching: the task option `batch`. */
export interface BatchOptions {
  /**
   * At most this many jobs go to one call of the handler (an integer ≥ 1).
   * @defaultValue none: required
   */
  size: number
  /**
   * How long (ms) the first due job of a batch waits for company when fewer than `size`
   * are due: then the batch goes with what there is. 0 sends what is due at once.
   * @defaultValue 0
   */
  wait?: number
}

/**
 * `ctx.batch`: the jobs of one call of a batch task's handler, in the order of its inputs.
 *
 * @typeParam P - what the handler passes to `progress`
 */
export interface TaskBatch<P = Progress> {
  /** The ids of the jobs, one per input, in order. */
  readonly ids: readonly string[]
  /** Each job's attempt (1 on its first run), one per input, in order. */
  readonly attempts: readonly number[]
  /**
   * Fails the attempt of job `index` alone with `error` (`ctx.retry({ delay })` asks for another
   * attempt, as a throw would): it fails or retries by its own policy; what the handler returns
   * for it is dropped. The first failure of a job stands.
   * @throws RangeError for an index that is not one of the inputs'
   */
  fail(index: number, error: unknown): void
  /** Reports progress of job `index` alone (`ctx.progress` reports it for every job of the batch). */
  progress(index: number, value: P): void
  /** The log of job `index` alone (`ctx.log` writes to every job of the batch). */
  log(index: number): JobLogger
}

/**
 * What a batch task's handler gets as its second argument: a job's context, for the batch.
 * `id`, `attempt`, `createdAt` and `version` are the first job's; `ctx.batch` names every job.
 * `progress`, `log` and `heartbeat` apply to every job of the batch; `ctx.batch.progress(i, v)`
 * and `ctx.batch.log(i)` to one. `signal` aborts once every job of the batch is aborted
 * (a job cancelled alone ends `cancelled` at once, the others go on). `step`, `sleep` and
 * `waitFor` reject: the jobs of a batch share no durable steps.
 *
 * @typeParam S - what the worker's `setup()` returned
 * @typeParam P - what the handler passes to `ctx.progress()`
 */
export interface BatchContext<S = undefined, P = Progress> extends TaskContext<S, P> {
  /** The jobs of this call, in the order of its inputs. */
  readonly batch: TaskBatch<P>
}

/**
 * What a handler gets as its second argument. Its progress type `P` types that task's
 * handles, events and hooks: `(input, ctx: TaskContext<State, { done: number; total: number }>)`
 * makes them carry `{ done: number; total: number }` instead of `number | object`.
 *
 * @typeParam S - what the worker's `setup()` returned
 * @typeParam P - what the handler passes to `ctx.progress()`
 */
export interface TaskContext<S = undefined, P = Progress> {
  /** The job's id. */
  readonly id: string
  /** The task's registered name. */
  readonly name: string
  /** The queue's name. */
  readonly queue: string
  /** 1 on the first run, +1 on each retry. */
  readonly attempt: number
  /** When the job was added, ms since epoch. */
  readonly createdAt: number
  /**
   * The release of the app that added the job (`createQueue({ version })`, or the
   * adding tab's task fingerprint; undefined when the adding tab knew neither): a
   * handler reads an older input shape by it.
   */
  readonly version: string | number | undefined
  /** Aborts on cancel (`JobCancelledError`), timeout (`JobTimeoutError`) or close (`QueueClosedError`). */
  readonly signal: AbortSignal
  /** What `setup()` returned, once per worker. */
  readonly state: S
  /** Reports progress; coalesced, the last value always delivered and kept. */
  progress(value: P): void
  /** Says the job is still alive: resets the stall watchdog. */
  heartbeat(): void
  /** Appends to the job's persisted log. */
  readonly log: JobLogger
  /** `throw ctx.retry({ delay })` asks for another attempt after `delay` ms. */
  retry(options?: { delay?: number; reason?: string }): Error
  /** Marks `value` to be handed back zero-copy with `transferables`. */
  transfer<T>(value: T, transferables: Transferable[]): T
  /**
   * Lets pending messages in, then throws the signal's reason if it aborted. A cancel,
   * a timeout or a close reaches the worker as a message, which a loop that only awaits
   * microtasks (`await reader.read()` on a Blob's stream, say) never lets through:
   * `await ctx.yield()` in such a loop lets it stop at once.
   */
  yield(): Promise<void>
  /**
   * A durable checkpoint: the first time, runs `fn` and stores its (cloneable) result
   * before resolving; when the job runs again (a reload, a crash, a retry), a step whose
   * result is stored returns it without running `fn`. Ids are unique within a job; a
   * step that throws stores nothing.
   */
  step<T>(id: string, fn: () => T | Promise<T>): Promise<T>
  /**
   * A durable sleep: the first time, stores the time it sleeps until (a step of id `id`)
   * and ends the run. The job is `delayed` meanwhile (no worker held; a reload or a closed
   * tab does not lose it), its attempt not used up. At its time it runs again from the
   * start: stored steps return their results, and this sleep returns at once. Ids share
   * the steps' (unique within a job). Needs a store that keeps steps (idbStore,
   * sqliteStore, memoryStore). It ends the run by throwing: a handler that catches
   * errors around it must throw that one on.
   */
  sleep(id: string, ms: number): Promise<void>
  /**
   * A durable wait for a signal: resolves to the payload of `queue.signal(jobId, name, payload)`
   * (sent from any tab, before or after this wait: a signal is stored). Until it comes, the
   * run ends as with {@link TaskContext.sleep}: the job is `delayed` (`waitingFor: 'signal'`),
   * no worker held, its attempt not used up; the signal wakes it, and it runs again from the
   * start, its stored steps returning their results and this wait the payload. With
   * `timeout` (ms), a wait that no signal ended in time rejects with a `TimeoutError` the
   * handler may catch (and does so again if the job runs again). A name is waited for once
   * per job. Ends the run by throwing: a handler that catches errors around it must throw
   * that one on.
   */
  waitFor<T = unknown>(name: string, options?: { timeout?: number }): Promise<T>
}

/** The `ctx.log` methods. */
export interface JobLogger {
  info(message: string, meta?: Record<string, unknown>): void
  warn(message: string, meta?: Record<string, unknown>): void
  error(message: string, meta?: Record<string, unknown>): void
}

/** A task's handler: takes the job's data and the context, returns the result. */
// `any` is deliberate: these are the bounds user handlers are checked against.
export type TaskHandler<I = any, O = any, S = any> = (input: I, ctx: TaskContext<S>) => O | Promise<O>

/** The long form of a task: its own defaults and its handler. */
export interface TaskDefinition<I = any, O = any, S = any> extends TaskOptions {
  handler: TaskHandler<I, O, S>
  /** Only a {@link BatchTaskDefinition} has `batch`. */
  batch?: undefined
}

/**
 * A batch task's handler: the inputs of up to `batch.size` jobs in one call, one result per
 * input, in order (an array of the same length).
 */
export type BatchHandler<I = any, O = any, S = any> = (inputs: I[], ctx: BatchContext<S>) => O[] | Promise<O[]>

/**
 * A batch task: `add(name, input)` adds one job as ever, and the runner hands up to
 * `batch.size` due jobs to one call of `handler`. Each job keeps its own handle, result,
 * attempt, events and retries.
 */
export interface BatchTaskDefinition<I = any, O = any, S = any> extends TaskOptions {
  /** How many jobs go to one call, and how long the first waits for company. */
  batch: BatchOptions
  handler: BatchHandler<I, O, S>
}

/**
 * What `defineTasks` takes: task name to handler or definition. (A short-form handler is
 * typed as having no `batch`: that lets a long form without `batch` type its `ctx` by itself.)
 */
export type TaskMap<S = any> = Record<
  string,
  (TaskHandler<any, any, S> & { batch?: undefined }) | TaskDefinition<any, any, S> | BatchTaskDefinition<any, any, S>
>

/** The input type of a task entry (of one job: a batch task's handler takes an array of them). */
export type TaskInput<E> = E extends { batch: object; handler: (inputs: Array<infer I>, ctx: any) => any }
  ? I
  : E extends TaskDefinition<infer I, any, any>
    ? I
    : E extends (input: infer I, ctx: any) => any
      ? I
      : unknown

/** The result type of a task entry (its handler's awaited return type; a batch task's: one element of it). */
export type TaskOutput<E> = E extends { batch: object; handler: (inputs: any, ctx: any) => infer O }
  ? Awaited<O> extends ReadonlyArray<infer R>
    ? R
    : unknown
  : E extends TaskDefinition<any, infer O, any>
    ? Awaited<O>
    : E extends (input: any, ctx: any) => infer O
      ? Awaited<O>
      : unknown

/** The names of the tasks in a task map. */
export type TaskName<T> = keyof T & string

/** The progress type a task declares on its context parameter, else `number | object`. */
export type TaskProgress<E> = [E] extends [never] ? Progress : HandlerProgress<E extends { handler: infer H } ? H : E>
type HandlerProgress<H> = H extends (input: any, ctx: infer C) => any
  ? C extends { progress(value: infer P): void }
    ? unknown extends P
      ? Progress
      : P
    : Progress
  : Progress

/** The snapshot of a job of task `K`: its `name`, `data`, `result` and `progress` typed by that task. */
export type TaskSnapshot<T, K extends keyof T> = Omit<JobSnapshot<TaskOutput<T[K]>, TaskProgress<T[K]>>, 'name' | 'data'> & {
  name: K
  data?: TaskInput<T[K]>
}

/** A job snapshot of a queue of tasks `T`: a union by task name (`snapshot.name` narrows it); a plain `JobSnapshot` for an untyped queue. */
export type AnySnapshot<T> = string extends TaskName<T> ? JobSnapshot : { [K in TaskName<T>]: TaskSnapshot<T, K> }[TaskName<T>]

/**
 * A snapshot as a list gives it (`queue.watch`, `useJobs`): without `data` and `result`,
 * which a list does not read (`list({ data: true })` does).
 */
export type Listed<S> = S extends unknown ? Omit<S, 'data' | 'result'> : never

/** Whether this tab runs the queue's jobs. */
export type QueueRole = 'runner' | 'follower'

/** The queue's events; each job event's listener gets the job's snapshot and the event's value. */
// A type alias, not an interface: it must fit the emitter's index-signature constraint.
// With a typed queue (`createQueue<Tasks>`), each job event's snapshot is typed by its task: test `job.name`.
export type QueueEvents<T = TaskMap> = {
  added: (job: AnySnapshot<T>, value: undefined) => void
  started: (job: AnySnapshot<T>, attempt: number) => void
  progress: (job: AnySnapshot<T>, progress: Exclude<AnySnapshot<T>['progress'], undefined>) => void
  log: (job: AnySnapshot<T>, entry: LogEntry) => void
  retrying: (job: AnySnapshot<T>, retry: { attempt: number; delay: number; error: SerializedError }) => void
  completed: (job: AnySnapshot<T>, result: AnySnapshot<T>['result']) => void
  failed: (job: AnySnapshot<T>, error: SerializedError) => void
  cancelled: (job: AnySnapshot<T>, reason: string | undefined) => void
  /**
   * The job is back in line without an attempt of its own ending: `retry(id)`, an
   * interrupted run (reload, crash, a runner given up), its dependencies done, waiting
   * for a release; in any tab. Its snapshot tells its status (`waiting`, `delayed`).
   */
  requeued: (job: AnySnapshot<T>, value: undefined) => void
  /** Jobs deleted (by `remove`, `clean` or retention), in any tab. */
  removed: (ids: readonly string[]) => void
  /** Nothing waiting, due or running in this runner. */
  idle: () => void
  role: (role: QueueRole) => void
  /** The queue's own trouble: storage quota, a worker that cannot start. */
  error: (error: Error) => void
  /**
   * Another tab opened the queue's store with a newer offthread (a newer schema): this
   * queue closes right after (its calls reject `QueueClosedError`). Ask the user to reload.
   */
  outdated: (error: Error) => void
}

/** The task name of join jobs: completed by the runner with their dependencies' results, in order. */
export const JOIN_TASK = 'offthread:join'

/** One job of `addBulk`: its `data` is checked against its own task's input. */
export type BulkJob<T extends TaskMap> = {
  [K in TaskName<T>]: { name: K; data: TaskInput<T[K]>; options?: JobOptions }
}[TaskName<T>]

/** Filters of `list` (the store's `ListQuery` is the same). */
export interface ListOptions {
  status?: JobStatus | readonly JobStatus[]
  name?: string
  /** At most this many jobs; `Infinity` for every one. @defaultValue 100 ({@link DEFAULT_LIST_LIMIT}) */
  limit?: number
  offset?: number
  /**
   * Keyset pagination: only jobs added before the job whose `seq` this is (pass the last
   * snapshot's `seq` to get the next page). Unlike `offset`, its cost does not grow with
   * how deep the page is (on disk, Chromium walks every job an `offset` skips).
   */
  before?: number
  /**
   * Read each job's `data` and `result` too. Without it a snapshot has neither, so
   * listing a job of 100 MB costs what listing a job of 10 bytes does.
   * @defaultValue false
   */
  data?: boolean
}

/** How many jobs `list()` returns when no `limit` is given. */
export const DEFAULT_LIST_LIMIT = 100
