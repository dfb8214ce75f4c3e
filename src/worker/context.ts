/**
 * Builds a job's context (`ctx`) inside the worker, and the reporter that
 * carries its progress, logs and heartbeats to the pool, coalesced. `ctx`
 * writes to a {@link ReportSink}, so `offthread/testing` builds the same `ctx`
 * over a recorder instead.
 */
import { JobDataError, RetryError, TimeoutError, deserializeError } from '../shared/errors.js'
import { FOREVER, RESERVED_STEP, checkSignalName, signalStep, waitStep } from '../shared/waits.js'
import { MESSAGE_TAG, type RunRequest, type WorkerMessage } from '../shared/protocol.js'
import type { SerializedError } from '../shared/types.js'
import { nextTurn } from '../shared/timers.js'
import type { JobLogger, LogEntry, Progress, TaskContext } from '../shared/types.js'

/** Minimum ms between two messages of the same kind for one job; the last value always follows. */
const REPORT_INTERVAL = 16
/** Log lines sent in one message at most. */
const LOGS_PER_MESSAGE = 500

/** A place to post to: the worker's global scope, or a Node port. */
export interface PostTarget {
  postMessage(message: unknown, transfer?: Transferable[]): void
}

/** Where a job's `ctx` sends what the handler reports. */
export interface ReportSink {
  progress(value: Progress): void
  log(entry: LogEntry): void
  heartbeat(): void
  /** Stores a durable step's result; resolves once it is stored. */
  step(step: string, value: unknown): Promise<void>
}

/** Steps sent to the page and not yet answered, by sequence number. */
const pendingSteps = new Map<number, { resolve: () => void; reject: (error: Error) => void }>()
let stepSeq = 0

/** The page's answer to step message `seq`. */
export function stepStored(seq: number, error?: SerializedError): void {
  const pending = pendingSteps.get(seq)
  pendingSteps.delete(seq)
  if (!pending) return
  if (error) pending.reject(deserializeError(error))
  else pending.resolve()
}

/** What `ctx` says about the job: a {@link RunRequest} without its data. */
export type JobInfo = Pick<RunRequest, 'id' | 'name' | 'queue' | 'attempt' | 'createdAt' | 'version'>

/**
 * Sends one job's progress, logs and heartbeats. Leading edge right away, then
 * at most one message per {@link REPORT_INTERVAL} with the latest value, so a
 * handler that reports in a tight loop costs little and is still seen live.
 */
export class JobReporter implements ReportSink {
  #target: PostTarget
  #jobId: string
  #progress: { value: Progress } | undefined
  #logs: LogEntry[] = []
  #heartbeat = false
  #lastSent = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(target: PostTarget, jobId: string) {
    this.#target = target
    this.#jobId = jobId
  }

  progress(value: Progress): void {
    this.#progress = { value }
    this.#schedule()
  }

  log(entry: LogEntry): void {
    this.#logs.push(entry)
    this.#schedule()
  }

  heartbeat(): void {
    this.#heartbeat = true
    this.#schedule()
  }

  step(step: string, value: unknown): Promise<void> {
    // Progress and logs reported before the step go first.
    this.flush()
    const seq = ++stepSeq
    return new Promise<void>((resolve, reject) => {
      pendingSteps.set(seq, { resolve, reject })
      try {
        this.#target.postMessage({ [MESSAGE_TAG]: 'step', jobId: this.#jobId, step, value, seq } satisfies WorkerMessage)
      } catch (error) {
        pendingSteps.delete(seq)
        reject(new JobDataError(`ctx.step("${step}"): its result cannot be structured-cloned, so it cannot be stored`, { cause: error }))
      }
    })
  }

  /** Sends whatever is pending now (before the job's outcome). */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#lastSent = performance.now()
    const jobId = this.#jobId
    if (this.#logs.length > 0) {
      const logs = this.#logs
      this.#logs = []
      // In parts: one huge message would be one long task for the page to read.
      for (let i = 0; i < logs.length; i += LOGS_PER_MESSAGE) this.#postLogs(logs.slice(i, i + LOGS_PER_MESSAGE))
    }
    if (this.#progress) {
      const { value } = this.#progress
      this.#progress = undefined
      this.#heartbeat = false
      this.#post({ [MESSAGE_TAG]: 'progress', jobId, value })
    } else if (this.#heartbeat) {
      this.#heartbeat = false
      this.#post({ [MESSAGE_TAG]: 'heartbeat', jobId })
    }
  }

  #schedule(): void {
    const wait = this.#lastSent + REPORT_INTERVAL - performance.now()
    if (wait <= 0) this.flush()
    else this.#timer ??= setTimeout(() => this.flush(), wait)
  }

  /** Sends log lines; a line whose `meta` cannot be cloned goes with a note instead of it, and loses no other line. */
  #postLogs(entries: LogEntry[]): void {
    const jobId = this.#jobId
    if (this.#send({ [MESSAGE_TAG]: 'logs', jobId, entries })) return
    const safe = entries.map((entry) => {
      try {
        structuredClone(entry)
        return entry
      } catch (error) {
        const { meta: _meta, ...rest } = entry
        return { ...rest, meta: { unserializable: `the meta of this line could not be cloned: ${String((error as Error)?.message ?? error)}` } }
      }
    })
    this.#post({ [MESSAGE_TAG]: 'logs', jobId, entries: safe })
  }

  #send(message: WorkerMessage): boolean {
    try {
      this.#target.postMessage(message)
      return true
    } catch {
      return false
    }
  }

  #post(message: WorkerMessage): void {
    try {
      this.#target.postMessage(message)
    } catch (error) {
      // A progress value or log meta that cannot be cloned must not kill the job.
      console.warn('[offthread] could not send a report of job', this.#jobId, error)
    }
  }
}

/**
 * What `ctx.sleep` throws to end the run: the job runs again at `until`. A handler that
 * catches it must throw it on (as with `ctx.retry`).
 */
export class Sleeping extends Error {
  override readonly name = 'Sleeping'
  constructor(
    readonly step: string,
    readonly until: number,
    /** `ctx.waitFor`: the signal it waits for (it runs again when it comes, or at `until`). */
    readonly signal?: string,
  ) {
    super(
      signal === undefined
        ? `ctx.sleep("${step}"): the job sleeps until ${new Date(until).toISOString()}; rethrow this error if you catch it`
        : `ctx.waitFor("${signal}"): the job waits for this signal${until < FOREVER ? ` until ${new Date(until).toISOString()}` : ''}; rethrow this error if you catch it`,
    )
  }
}

/** What a handler returned through `ctx.transfer(value, list)`. */
export const transfers = new WeakMap<object, Transferable[]>()

/** `ctx.log`: its lines go to `reporter`. */
export function createLogger(reporter: Pick<ReportSink, 'log'>): JobLogger {
  const log = (level: LogEntry['level']) => (message: string, meta?: Record<string, unknown>) => {
    const entry: LogEntry = { level, message: String(message), timestamp: Date.now() }
    if (meta !== undefined) entry.meta = meta
    reporter.log(entry)
  }
  return { info: log('info'), warn: log('warn'), error: log('error') }
}

/** Builds the `ctx` of one attempt; what the handler reports goes to `reporter`; `stored`: the job's stored step results. */
export function createContext<S>(
  request: JobInfo,
  signal: AbortSignal,
  state: S,
  reporter: ReportSink,
  stored: Record<string, unknown> = {},
): TaskContext<S> {
  const done = new Map<string, unknown>(Object.entries(stored))
  const used = new Set<string>()
  const logger = createLogger(reporter)
  return Object.freeze({
    id: request.id,
    name: request.name,
    queue: request.queue,
    attempt: request.attempt,
    createdAt: request.createdAt,
    version: request.version,
    signal,
    state,
    log: logger,
    progress: (value: Progress) => reporter.progress(value),
    heartbeat: () => reporter.heartbeat(),
    retry: (options?: { delay?: number; reason?: string }) => new RetryError(options),
    async step<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
      if (typeof id !== 'string' || id === '') throw new TypeError(`ctx.step(id, fn): expected a non-empty string id, received ${String(id)}`)
      if (typeof fn !== 'function') throw new TypeError(`ctx.step("${id}", fn): expected a function, received ${typeof fn}`)
      if (used.has(id)) throw new TypeError(`ctx.step("${id}"): a step id is used once per job; this one was used already`)
      if (id.startsWith(RESERVED_STEP))
        throw new TypeError(`ctx.step("${id}"): step ids starting with "${RESERVED_STEP}" are offthread's own (signals, waits)`)
      used.add(id)
      signal.throwIfAborted()
      if (done.has(id)) return done.get(id) as T
      const value = await fn()
      signal.throwIfAborted()
      await reporter.step(id, value)
      done.set(id, value)
      return value
    },
    async sleep(id: string, ms: number): Promise<void> {
      if (typeof id !== 'string' || id === '') throw new TypeError(`ctx.sleep(id, ms): expected a non-empty string id, received ${String(id)}`)
      if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
        throw new TypeError(`ctx.sleep("${id}", ms): expected a finite number of ms ≥ 0, received ${String(ms)}`)
      }
      if (used.has(id)) throw new TypeError(`ctx.sleep("${id}"): a step id is used once per job; this one was used already`)
      if (id.startsWith(RESERVED_STEP))
        throw new TypeError(`ctx.sleep("${id}"): step ids starting with "${RESERVED_STEP}" are offthread's own (signals, waits)`)
      used.add(id)
      signal.throwIfAborted()
      // Stored: the time it sleeps until (a run before its time, after an interruption say, sleeps again).
      let stored = done.get(id) as { until?: unknown } | undefined
      if (typeof stored?.until !== 'number') {
        stored = { until: Date.now() + ms }
        await reporter.step(id, stored)
        done.set(id, stored)
      }
      const until = stored.until as number
      if (Date.now() >= until) return
      throw new Sleeping(id, until)
    },
    async waitFor<T = unknown>(name: string, options?: { timeout?: number }): Promise<T> {
      checkSignalName(name, 'ctx.waitFor(name)')
      const timeout = options?.timeout
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new TypeError(`ctx.waitFor("${name}", options): expected an object of options, received ${options === null ? 'null' : typeof options}`)
      }
      if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0) || timeout === Infinity)) {
        throw new TypeError(`ctx.waitFor("${name}", { timeout }): expected a finite number of ms ≥ 0, received ${String(timeout)}`)
      }
      const id = waitStep(name)
      if (used.has(id)) throw new TypeError(`ctx.waitFor("${name}"): a signal is waited for once per job; this one was already`)
      used.add(id)
      signal.throwIfAborted()
      let wait = done.get(id) as { until?: unknown; timedOut?: unknown } | undefined
      const timedOut = (): TimeoutError =>
        new TimeoutError(`ctx.waitFor("${name}"): no signal "${name}" came by ${new Date(wait?.until as number).toISOString()} (its timeout)`)
      // A wait that timed out once times out again when the job runs again (a signal come since is too late).
      if (wait?.timedOut === true) throw timedOut()
      const got = done.get(signalStep(name)) as { payload?: unknown } | undefined
      if (got !== undefined) return got.payload as T
      if (wait === undefined || (wait.until !== null && typeof wait.until !== 'number')) {
        // Stored: when the wait ends (a run before, after an interruption say, waits again until then).
        wait = { until: timeout === undefined ? null : Date.now() + timeout }
        await reporter.step(id, wait)
        done.set(id, wait)
      }
      const until = wait.until as number | null
      if (until !== null && Date.now() >= until) {
        const ended = { ...wait, timedOut: true }
        await reporter.step(id, ended)
        done.set(id, ended)
        throw timedOut()
      }
      throw new Sleeping(id, until ?? FOREVER, name)
    },
    async yield(): Promise<void> {
      signal.throwIfAborted()
      await nextTurn()
      signal.throwIfAborted()
    },
    transfer<T>(value: T, list: Transferable[]): T {
      if (typeof value === 'object' && value !== null) transfers.set(value, list)
      return value
    },
  })
}
