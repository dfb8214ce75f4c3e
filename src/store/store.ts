/**
 * The Store interface: everything the queue keeps, behind one small contract.
 * The queue never touches IndexedDB directly; `idbStore()`, `memoryStore()` and
 * `sqliteStore()` implement this, and so can a user's own store. What a `write`
 * means (keys, `expect`, fences, `fired`, kept counts, the roll-back of an atomic
 * batch) is written once, in write-rules.ts, which the three stores share.
 */
import type { GroupLimits, StoredJobOptions } from '../shared/options.js'
import type { ReleaseRecord, Version } from '../shared/release.js'
import type { ErrorRecord, JobStatus, ListOptions, LogEntry, Progress, SerializedError } from '../shared/types.js'

/** A job's metadata as stored: small, rewritten on every state change. Data and result live apart. */
export interface JobRecord {
  id: string
  name: string
  queue: string
  status: JobStatus
  /** Insertion order, assigned by the store: equal priorities run in this order. */
  seq: number
  /** Revision, +1 on every write: tells a newer view of a job from an older one. */
  rev: number
  priority: number
  key?: string
  attempt: number
  createdAt: number
  runAt: number
  startedAt?: number
  finishedAt?: number
  progress?: Progress
  error?: SerializedError
  dependencies: string[]
  /** A chain step's input is the result of this job, not its own data. */
  inputFrom?: string
  /** The debounce key: while the job is `delayed`, adding with this key updates it. */
  debounce?: string
  options: StoredJobOptions
  /** How often the current attempt was interrupted (reload, closed tab, crash). */
  interruptions: number
  /** The release of the app that added it (`createQueue({ version })`, or its tasks' fingerprint). */
  version?: Version
  /**
   * Why a job does not start: `waiting` for `'release'` (the runner's release does not define
   * its task), `'network'` (it needs the network, the runner is offline) or `'group'` (its
   * group is paused); `delayed` for `'sleep'` (`ctx.sleep`) or `'signal'` (`ctx.waitFor`:
   * see {@link JobRecord.signal}).
   */
  waitingFor?: 'release' | 'network' | 'group' | 'sleep' | 'signal'
  /** The signal a `delayed` job waits for (`ctx.waitFor(name)`): a `signal` op of that name wakes it. */
  signal?: string
  /** Its handler slept (`ctx.sleep`, `ctx.waitFor`) in this attempt: its next run reads its durable steps. */
  slept?: true
  /** A batch task's job: how many jobs its latest run was started with (see `JobSnapshot.batch`). */
  batch?: number
}

/** A repeating job, as stored. */
export interface ScheduleRecord {
  id: string
  /** The task to run. */
  name: string
  cron?: string
  every?: number
  data: unknown
  options: Record<string, unknown>
  onMissed: 'once' | 'skip'
  overlap: boolean
  paused: boolean
  /** When it fires next (ms epoch). */
  nextRunAt: number
  lastRunAt?: number
  /** The job it added last (so an overlapping run can be skipped). */
  lastJobId?: string
  createdAt: number
}

/**
 * One group's own settings (`queue.groups.set`, `.pause`), as stored: its limits, over the
 * task's and the queue's, and whether it is paused. A group with neither is not stored.
 */
export interface GroupRecord {
  id: string
  limits?: GroupLimits
  paused?: true
}

/** A job with its data and, once completed, its result. */
export interface StoredJob extends JobRecord {
  data: unknown
  result?: unknown
}

/**
 * One change in a {@link Store.write} batch. With `fence` (a store with
 * {@link Store.fencing}), the op is applied only while the store's runner token
 * is `fence`; else it gives `fenced` and writes nothing: a runner that lost its
 * place (a frozen tab that wakes after another took over) can commit nothing.
 */
export type WriteOp = WriteOpBody & { fence?: string }

/** The changes a {@link WriteOp} can make. */
export type WriteOpBody =
  /**
   * Adds a job unless its id exists, or its key is held by an unfinished job.
   * `fresh`: the id was just generated, so the store may skip looking it up.
   */
  | { op: 'insert'; job: Omit<JobRecord, 'seq'>; data: unknown; fresh?: boolean }
  /**
   * Replaces a job's metadata; with `expect`, only if its stored status is one
   * of those. `result` (with a `completed` job) is stored with it; `data`
   * replaces the job's data.
   */
  | { op: 'put'; job: JobRecord; expect?: readonly JobStatus[]; result?: unknown; data?: unknown }
  | { op: 'log'; id: string; entries: LogEntry[] }
  | { op: 'error'; id: string; record: ErrorRecord }
  /** Deletes jobs with their data, result, logs, errors and steps. */
  | { op: 'delete'; ids: readonly string[] }
  /**
   * Stores the result of durable step `step` of job `id` (`ctx.step`), only while the
   * job is `running` (else a `conflict`: a runner that lost the job writes nothing).
   */
  | { op: 'step'; id: string; step: string; value: unknown }
  /**
   * Stores signal `name` with `payload` for job `id` (`queue.signal`), as the step of
   * `signalStep(name)`, while the job is unfinished (else a `conflict`). A job `delayed`
   * waiting for that signal (its `signal` is `name`) is woken in the same write: `waiting`,
   * `runAt` `at`, its revision advanced; the result names it (`job`).
   */
  | { op: 'signal'; id: string; name: string; payload: unknown; at: number }
  /**
   * Stores (or replaces) a schedule. With `fired` (it ran: `'due'` on its own
   * time, `'trigger'` by `schedules.trigger`), only its run (`nextRunAt`,
   * `lastRunAt`, `lastJobId`) is written onto the stored schedule, and only if
   * one is stored (and, when `'due'`, not paused); else a `conflict`: a pause or
   * a remove made meanwhile is not undone, nor run past.
   */
  | { op: 'schedule'; schedule: ScheduleRecord; fired?: 'due' | 'trigger' }
  /** Deletes a schedule. */
  | { op: 'unschedule'; id: string }
  /**
   * Makes `token` the store's runner token (a store with {@link Store.fencing}):
   * from this write on, ops fenced with any other token give `fenced`.
   */
  | { op: 'claim'; token: string }
  /**
   * Stores a release of the app (its version and tasks; one record per version, replaced),
   * with `runner` as the release of the queue's runner; `drop` deletes the records of
   * those versions (releases not seen for long). Sent only to a store with {@link Store.releases}.
   */
  | { op: 'release'; release: ReleaseRecord; runner?: boolean; drop?: readonly Version[] }
  /**
   * Changes group `id`'s own settings, onto what is stored: `limits` replaces its limits
   * (`null` drops them), `paused` pauses or resumes it; a field not given stays as stored.
   * A group left with neither is deleted. Sent only to a store with {@link Store.groups}.
   */
  | { op: 'group'; id: string; limits?: GroupLimits | null; paused?: boolean }

/** What one {@link WriteOp} did. */
export type WriteResult =
  /** `seq`: an insert's; `job`: the job a `signal` op woke. */
  | { ok: true; seq?: number; job?: JobRecord }
  /** insert: a job with that id exists. */
  | { ok: false; reason: 'exists'; job: JobRecord }
  /** insert: an unfinished job holds that key. */
  | { ok: false; reason: 'key'; job: JobRecord }
  /** insert: the data cannot be structured-cloned (nothing was written for this op). */
  | { ok: false; reason: 'uncloneable'; error: unknown }
  /** put with `expect`: the stored job is missing or in another status. */
  | { ok: false; reason: 'conflict'; job: JobRecord | undefined }
  /** An atomic batch was rolled back because another op in it was not ok. */
  | { ok: false; reason: 'aborted' }
  /** An op with `fence`: the store's runner token is another (nothing was written for this op). */
  | { ok: false; reason: 'fenced' }

/** Filters of {@link Store.list}: `queue.list`'s options. */
export type ListQuery = ListOptions

/**
 * Where a queue keeps its jobs. One store instance serves one queue name.
 *
 * Every method may be called before {@link Store.open} resolves only after it;
 * the queue opens the store first.
 */
export interface Store {
  /** A short name for messages: `'indexeddb'`, `'memory'`. */
  readonly kind: string
  /**
   * Whether the store keeps a runner token: it applies `claim` ops and refuses ops
   * whose `fence` is not that token (`fenced`, and an atomic batch rolls back).
   * Without it, a frozen runner is never replaced (`runnerTimeout` does nothing):
   * only fencing makes a takeover safe.
   */
  readonly fencing?: boolean
  /**
   * Whether the store keeps Blob values (answered once, then the same): `add` stores a big
   * binary as a Blob only where it does. Without it, the queue stores binaries as given.
   * A store that cannot keep Blobs fails an op that stores one as `uncloneable`.
   */
  storesBlobs?(): Promise<boolean>
  /**
   * Takes or renews the runner lease of the queue for `ttl` ms: resolves true (and
   * makes `token` the runner token) when no lease is held, `token` holds it, or the
   * holder's lease has expired; else false. `ttl` 0 gives the lease up (if `token`
   * holds it). For stores shared between processes, which have no Web Locks
   * (`sqliteStore`): the queue then elects its runner by this lease.
   */
  lease?(token: string, ttl: number): Promise<boolean>
  /**
   * A number that changes whenever another process wrote to the store (a store shared
   * between processes, which BroadcastChannel does not reach): the queue looks at it
   * now and then and, when it moved, reads what changed (new jobs, a cancel, outcomes).
   */
  version?(): Promise<number>
  /** Opens (and if needed creates or migrates) the storage of queue `queue`. */
  open(queue: string): Promise<void>
  /** Closes the storage; pending writes finish first. */
  close(): Promise<void>
  /**
   * Applies `ops` in order in one transaction and resolves once durable. An op
   * whose value cannot be stored (data, a result, a progress value) is skipped
   * alone with `uncloneable`; a failure of the transaction itself rejects with
   * the storage's own error (its name and message). With `atomic`, an op that is
   * `uncloneable` or a `conflict` rolls the whole batch back and the results
   * say why; an insert whose id exists or whose key is held is no failure
   * (a `fenced` op rolls an atomic batch back too).
   */
  write(ops: readonly WriteOp[], options?: { atomic?: boolean }): Promise<WriteResult[]>
  /** Reads jobs' metadata. */
  get(ids: readonly string[]): Promise<Array<JobRecord | undefined>>
  /**
   * Reads a whole job: metadata, data and result; with `{ data: false }` only metadata
   * and result (a store may ignore that and read the data too: it costs, but is correct).
   */
  getFull(id: string, options?: { data?: boolean }): Promise<StoredJob | undefined>
  /** Reads jobs' data. */
  getData(ids: readonly string[]): Promise<unknown[]>
  /**
   * Jobs newest first, at most `query.limit`. Each has `data` and `result` only when
   * `query.data` is true: without it, reading a job must not read its data.
   */
  list(query: ListQuery): Promise<StoredJob[]>
  /** How many jobs there are in each status. */
  counts(): Promise<Record<JobStatus, number>>
  /**
   * The next jobs to run, at most `limit`: `'ready'` is the `waiting` jobs by
   * priority (highest first), then insertion order; `'delayed'` the `delayed`
   * jobs by `runAt`. The dispatcher holds only such a window in memory.
   * With `after`, the page after that job's place (`'ready'`: strictly after;
   * `'delayed'`: from its `runAt` on, ties included), so the runner can look
   * past jobs it holds already (parked by a limit, say).
   */
  pending(kind: 'ready' | 'delayed', limit: number, after?: JobRecord): Promise<JobRecord[]>
  /** Every schedule. */
  schedules(): Promise<ScheduleRecord[]>
  /** The `delayed` job holding debounce key `key`, if any. */
  debounced(key: string): Promise<JobRecord | undefined>
  /** Jobs that list `id` in their `dependencies`. */
  dependents(id: string): Promise<JobRecord[]>
  /** Calls `visit` for each job in one of `statuses`, in pages, without loading all at once. */
  scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void>
  /** A job's log. */
  logs(id: string): Promise<LogEntry[]>
  /** A job's failed attempts. */
  errors(id: string): Promise<ErrorRecord[]>
  /**
   * The stored results of a job's durable steps (`ctx.step`), by step id. Optional for
   * a store of your own: without it (and the `step` op), steps run every time.
   */
  steps?(id: string): Promise<Record<string, unknown>>
  /**
   * The releases of the app the store knows (see the `release` op), and the runner's.
   * Optional for a store of your own: without it, tabs check task names only against
   * their own worker module, and a runner cannot tell an older release from a newer one.
   */
  releases?(): Promise<StoredReleases>
  /**
   * Every group's own settings (see the `group` op), in no particular order. Optional for a
   * store of your own: without it, groups have the limits of their task and queue only, and
   * `queue.groups.set` / `.pause` / `.resume` reject.
   */
  groups?(): Promise<GroupRecord[]>
  /**
   * Tells `listener` when this store's calls have waited on its storage past a bound with
   * none done meanwhile (`true`: another tab or process holds it), and when they go through
   * again (`false`). The queue reports both as a `StorageBlockedError`. Returns the unsubscribe function.
   */
  blocked?(listener: (blocked: boolean) => void): () => void
  /**
   * Ids of finished jobs of `status`, oldest finished first, that finished
   * before `finishedBefore` or are beyond the `keep` newest.
   */
  expired(status: JobStatus, rule: { finishedBefore?: number; keep?: number }, limit: number): Promise<string[]>
}

/** What {@link Store.releases} reads. */
export interface StoredReleases {
  /** Every release stored, in no particular order. */
  known: ReleaseRecord[]
  /** The release of the queue's runner, as it wrote it when it took its place. */
  runner: ReleaseRecord | undefined
}

/** The plain reads of a {@link Store}, by name: what a store that wraps another forwards (or, after a freeze, retries). */
export const STORE_READS = [
  'get',
  'getFull',
  'getData',
  'list',
  'counts',
  'pending',
  'schedules',
  'debounced',
  'dependents',
  'scan',
  'logs',
  'errors',
  'steps',
  'releases',
  'groups',
  'expired',
] as const
