/**
 * One `write` of the IndexedDB store, in one transaction: every read the batch needs
 * is issued first, all in flight together (one round trip); then the shared rules
 * (write-rules.ts) decide op by op, and the puts go out as plain requests; the kept
 * seq, counts and runner token last, then an explicit commit. Awaits only IndexedDB,
 * and only to let the page breathe in a big batch.
 */
import { unwrap } from 'idb'
import type { JobStatus } from '../shared/types.js'
import { releaseKey } from '../shared/release.js'
import type { ScheduleRecord, WriteOp, WriteResult } from './store.js'
import { rolledBack, WriteRules, type Reads, type Sink } from './write-rules.js'
import { fromRow, inlineable, jobRange, RELEASE, toRow, type JobRow, type LeaseRecord, type Names, type WriteTx } from './idb-schema.js'
import { commitNow, completion, ignore, quotaExceeded, refusedByTransaction } from './idb-lifecycle.js'
import { Leases, LEASES, startsLease } from './idb-lease.js'
import { isQuotaError } from '../shared/errors.js'

/** Ops applied between two looks at the clock inside one write. */
const CHUNK = 100
/**
 * Page time one write may take before it waits on IndexedDB once (which keeps the transaction
 * alive and lets the page breathe). Few waits: each is a moment the transaction needs this page
 * to run, and a page frozen or stopped in one blocks every other tab of the origin.
 */
const SLICE_MS = 8

/** What {@link writeBatch} did: the results, and the runner token it stored, if it stored one. */
export interface Written {
  results: WriteResult[]
  claimed: string | undefined
}

/**
 * Applies `ops` in transaction `tx` and resolves once it committed (or, `atomic` and
 * rolled back, aborted). Rejects with the error of the request that aborted the
 * transaction, in the browser's words.
 *
 * @param claimed - the runner token the store claimed last: the runner's still if the database lost its own
 * @param progress - called when a big write moves on (the store's blocked watch)
 */
export async function writeBatch(
  tx: WriteTx,
  ops: readonly WriteOp[],
  atomic: boolean | undefined,
  claimed: string | undefined,
  progress: () => void,
  blobsRefused = false,
): Promise<Written> {
  const raw = unwrap(tx)
  const { done, error: failure } = completion(raw)
  // idb's own completion promise exists too: keep its rejection from going unhandled.
  tx.done.catch(ignore)
  // The object stores, each fetched once: requests nobody awaits one by one go to them as
  // plain requests (no promise, no listeners: a failed request aborts the transaction, and
  // `done` says why).
  const stores: Partial<Record<Names, IDBObjectStore>> = {}
  const store = (name: Names): IDBObjectStore => (stores[name] ??= raw.objectStore(name))
  const { reads, state, schedules, leases } = readAhead(store, ops)
  const needsSeq = ops.some((op) => op.op === 'insert')
  const needsCounts = ops.some((op) => op.op === 'insert' || op.op === 'put' || op.op === 'delete' || op.op === 'signal')
  const needsLogSeq = ops.some((op) => op.op === 'log' || op.op === 'error')
  const needsRunner = ops.some((op) => op.fence !== undefined)
  const meta = tx.objectStore('meta')
  let logSeq = 0
  let rules: WriteRules<JobRow> | undefined
  let countsStart: Record<JobStatus, number> | undefined
  const results: WriteResult[] = []
  try {
    // Requests of one transaction complete in order: these come after every read above.
    const [seqStart, logSeqStart, counts, runnerStart] = await Promise.all([
      meta.get('seq'),
      needsLogSeq ? meta.get('logSeq') : undefined,
      needsCounts ? meta.get('counts') : undefined,
      needsRunner ? meta.get('runner') : undefined,
    ])
    // A claim reads the rows of every leased job too, issued once the leases came in: one
    // more request, answered after them, waits for those rows.
    if (ops.some((op) => op.op === 'claim')) {
      await meta.get('seq')
      // Looking at each leased job drops the entries that are stale (see Leases.over).
      for (const id of [...leases.entries.keys()]) reads.job(id)
    }
    countsStart = counts as Record<JobStatus, number> | undefined
    logSeq = (logSeqStart as number | undefined) ?? 0
    // The runner token (see `claim`): an op fenced with another token writes nothing.
    let runner = runnerStart as string | undefined
    // The database lost its token (deleted and made anew: DevTools, another tab): the token
    // this store claimed last is the runner's still, until another runner claims.
    const restored = needsRunner && runner === undefined && claimed !== undefined
    if (restored) runner = claimed
    rules = new WriteRules(
      reads,
      sink(store, state, schedules, leases, () => ++logSeq, blobsRefused),
      (seqStart as number | undefined) ?? 0,
      runner,
    )
    if (restored) rules.claimed = true
    // Let the page breathe in a big batch: awaiting IndexedDB keeps the transaction alive.
    // (Counted in requests: a log op of 100,000 lines is 100,000 of them.)
    let work = 0
    let sliceStart = performance.now()
    const breathe = async (): Promise<void> => {
      work = 0
      if (performance.now() - sliceStart < SLICE_MS) return
      await meta.get('seq')
      progress()
      sliceStart = performance.now()
    }
    for (const op of ops) {
      if (op.op === 'log' && !rules.fenced(op)) {
        for (const entry of op.entries) {
          rules.line(op.id, entry)
          if (++work >= CHUNK) await breathe()
        }
        results.push({ ok: true })
        continue
      }
      results.push(rules.apply(op))
      if (++work >= CHUNK) await breathe()
    }
  } catch (error) {
    // A request's failure aborted the transaction (its error says why, in the browser's words),
    // or this code threw: then nothing of the batch may commit.
    try {
      tx.abort()
    } catch {
      // Already aborted.
    }
    await done.catch(ignore)
    throw failure() ?? error
  }
  const rolled = rolledBack(results, atomic)
  if (rolled) {
    tx.abort()
    await done.catch(ignore)
    return { results: rolled, claimed: undefined }
  }
  const metaStore = store('meta')
  const lease = leases.changed()
  if (lease) metaStore.put(lease, LEASES)
  else if (lease === undefined) metaStore.delete(LEASES)
  if (needsSeq) metaStore.put(rules.seq, 'seq')
  if (needsLogSeq) metaStore.put(logSeq, 'logSeq')
  if (needsCounts) metaStore.put(rules.counts(countsStart), 'counts')
  if (rules.claimed) metaStore.put(rules.runner, 'runner')
  // Every request is issued: commit now, so that the engine finishes without this page
  // (a page frozen or stopped from here on blocks no other tab).
  commitNow(raw)
  await done
  return { results, claimed: rules.claimed ? rules.runner : undefined }
}

/**
 * Runs `write` (one attempt of a write, in its own transaction), and again once in two
 * cases: the engine refused the transaction (see refusedByTransaction: it committed
 * nothing), or the storage quota aborted it; then first `recount`, which commits a
 * transaction that writes nothing. A second quota abort rejects with {@link quotaExceeded}.
 */
export async function triedAgain<T>(write: () => Promise<T>, recount: () => Promise<void>): Promise<T> {
  let refused = false
  let overQuota = false
  for (;;) {
    try {
      return await write()
    } catch (error) {
      if (isQuotaError(error)) {
        // Chromium keeps the bytes of a Blob whose transaction the quota aborted counted against
        // the quota until a transaction of this origin commits, and refuses every transaction that
        // writes anything meanwhile: the origin stays "full" for good (test/e2e/durability.test.ts,
        // "a full origin"). A transaction that writes nothing needs no room; its commit makes the
        // engine count again. Then the batch is tried once more: it may have been refused for
        // another write's Blob, and what fits must go in.
        await recount()
        if (overQuota) throw quotaExceeded(error)
        overQuota = true
        continue
      }
      // A transaction the engine refused (see refusedByTransaction) committed nothing: the
      // batch runs once more in a new one. A second refusal is the caller's error.
      if (refused || !(error instanceof DOMException && error.name === 'InvalidStateError')) throw error
      refused = true
    }
  }
}

/** Rows of jobs by id (`undefined`: none, or deleted), as the write stands. */
type Rows = Map<string, JobRow | undefined>
/** Schedules by id (`undefined`: none, or deleted), as the write stands. */
type Schedules = Map<string, ScheduleRecord | undefined>

/**
 * The reads a batch needs, issued at once: the rows of the jobs it touches, key holders,
 * fired schedules; the rules read them once they are in (`state` and `schedules`, which
 * the sink keeps up to date).
 */
function readAhead(
  store: (name: Names) => IDBObjectStore,
  ops: readonly WriteOp[],
): { reads: Reads<JobRow>; state: Rows; schedules: Schedules; leases: Leases } {
  const jobs = store('jobs')
  const leases = new Leases()
  const state = new Map<string, JobRow | undefined>()
  const holders = new Map<string, string | undefined>()
  const schedules = new Map<string, ScheduleRecord | undefined>()
  const read = (id: string): void => {
    if (state.has(id)) return
    state.set(id, undefined)
    const request = jobs.get(id) as IDBRequest<JobRow | undefined>
    request.onsuccess = () => {
      const row = request.result
      state.set(id, row)
      // A read row that holds its key is the holder to know of (this write may change it).
      if (row?.activeKey !== undefined) holders.set(row.activeKey, id)
    }
  }
  for (const op of ops) {
    if (op.op === 'schedule' && op.fired && !schedules.has(op.schedule.id)) {
      const { id } = op.schedule
      schedules.set(id, undefined)
      const request = store('schedules').get(id) as IDBRequest<ScheduleRecord | undefined>
      request.onsuccess = () => schedules.set(id, request.result)
    }
    // Every put and delete reads the job first: its old status keeps the counts.
    if (op.op === 'put') read(op.job.id)
    if (op.op === 'delete') for (const id of op.ids) read(id)
    if (op.op === 'step' || op.op === 'signal') read(op.id)
    if (op.op === 'insert') {
      if (!op.fresh) read(op.job.id)
      const { key } = op.job
      if (key !== undefined && !holders.has(key)) {
        holders.set(key, undefined)
        const request = jobs.index('activeKey').get(key) as IDBRequest<JobRow | undefined>
        request.onsuccess = () => {
          const row = request.result
          // Unless a row read before it holds the key (see `read`).
          if (holders.get(key) === undefined) holders.set(key, row?.id)
          if (row && state.get(row.id) === undefined) state.set(row.id, row)
        }
      }
    }
  }
  // The leases, read by every write that reads a job (see idb-lease.ts). A claim (a runner
  // starting) reads each leased job's row too, so that stale entries go.
  if (
    ops.some(
      (op) =>
        op.op === 'put' ||
        op.op === 'delete' ||
        op.op === 'step' ||
        op.op === 'signal' ||
        op.op === 'claim' ||
        (op.op === 'insert' && (!op.fresh || op.job.key !== undefined)),
    )
  ) {
    const request = store('meta').get(LEASES) as IDBRequest<LeaseRecord | undefined>
    const claim = ops.some((op) => op.op === 'claim')
    request.onsuccess = () => {
      leases.load(request.result)
      if (claim) for (const id of leases.entries.keys()) read(id)
    }
  }
  return {
    reads: { job: (id) => leases.over(id, state.get(id)), holder: (key) => holders.get(key), schedule: (id) => schedules.get(id) },
    state,
    schedules,
    leases,
  }
}

/**
 * The puts of the rules, as plain requests of `store`'s object stores. Each is one request:
 * a value that cannot be stored throws before its request is queued.
 */
function sink(
  store: (name: Names) => IDBObjectStore,
  state: Rows,
  schedules: Schedules,
  leases: Leases,
  nextLogSeq: () => number,
  blobsRefused: boolean,
): Sink<JobRow> {
  // A value the engine would refuse is refused here, before its request: see holdsBlob.
  const storable = (value: unknown): void => {
    if (blobsRefused && holdsBlob(value)) throw blobsRefusedError()
  }
  return {
    record: fromRow,
    fatal: refusedByTransaction,
    insert(job, seq, data) {
      storable(data)
      // Small data goes in the job's row: one put. Else the data first: if it cannot be
      // cloned, put throws before anything of this job is queued.
      const inline = inlineable(data)
      if (!inline) store('data').put(data, job.id)
      const row = toRow({ ...job, seq })
      if (inline) row.input = data
      try {
        // What looks plain may still not clone (a live Proxy): then this op alone fails.
        store('jobs').put(row)
      } catch (error) {
        if (!inline) store('data').delete(job.id)
        throw error
      }
      state.set(row.id, row)
    },
    put(op, old) {
      // A start (`running` over `waiting` or `delayed`): the job goes in this write's lease, its row stays.
      if (startsLease(op.job, old, 'data' in op || 'result' in op)) {
        leases.start(op.job)
        return
      }
      if ('data' in op) storable(op.data)
      if ('result' in op) storable(op.result)
      const row = toRow(op.job)
      if ('result' in op && op.job.status === 'completed') row.result = op.result
      // A value that cannot be stored (new data, a result, a progress object) throws
      // before its request is queued, and this op alone fails.
      const moved = 'data' in op && inlineable(op.data)
      if (!('data' in op)) {
        if (old && 'input' in old) row.input = old.input
      } else if (moved) row.input = op.data
      else store('data').put(op.data, op.job.id)
      store('jobs').put(row)
      // New data moved into the row: its old record goes, after the row's put (which may refuse it).
      if (moved && old && !('input' in old)) store('data').delete(op.job.id)
      state.set(row.id, row)
      leases.end(row.id)
    },
    remove(id) {
      leases.end(id)
      store('jobs').delete(id)
      store('data').delete(id)
      store('logs').delete(jobRange(id))
      store('errors').delete(jobRange(id))
      store('steps').delete(jobRange(id))
      state.set(id, undefined)
    },
    log: (id, entry) => store('logs').put(entry, [id, nextLogSeq()]),
    error: (id, record) => store('errors').put(record, [id, nextLogSeq()]),
    step: (id, step, value) => store('steps').put(value, [id, step]),
    schedule(record) {
      store('schedules').put(record)
      schedules.set(record.id, record)
    },
    unschedule(id) {
      store('schedules').delete(id)
      schedules.set(id, undefined)
    },
    release(op) {
      // In `meta`: one record per release (`release:` and its key), and the runner's key.
      const meta = store('meta')
      for (const version of op.drop ?? []) meta.delete(RELEASE + releaseKey(version))
      meta.put(op.release, RELEASE + releaseKey(op.release.version))
      if (op.runner) meta.put(releaseKey(op.release.version), 'runnerRelease')
    },
  }
}

/**
 * Whether `value` is a Blob (a File too), or holds one at its first level (an array's
 * items, a plain object's values). The check of a store whose engine refuses Blobs: see
 * {@link probeBlobs}.
 */
export function holdsBlob(value: unknown): boolean {
  if (typeof Blob === 'undefined' || value === null || typeof value !== 'object') return false
  // A value that throws when looked at (a revoked Proxy, a throwing getter) holds no Blob
  // here: its put fails in the engine's clone and the op alone fails, named.
  try {
    if (value instanceof Blob) return true
    if (Array.isArray(value)) return value.some((item) => item instanceof Blob)
    if (Object.getPrototypeOf(value) !== Object.prototype) return false
    for (const key in value) if ((value as Record<string, unknown>)[key] instanceof Blob) return true
  } catch {
    return false
  }
  return false
}

/** The error of a Blob or File value an engine that refuses them was asked to store (one op fails with it: `uncloneable`). */
export function blobsRefusedError(): DOMException {
  return new DOMException(
    "this browser's IndexedDB refuses Blob and File values (WebKit in a private or automated session does); store the bytes (an ArrayBuffer) instead",
    'DataCloneError',
  )
}

/**
 * Whether the engine stores a Blob: one put of a tiny Blob in a transaction that is then
 * aborted (nothing is written). WebKit, in a private or automated session, refuses Blobs
 * ("Error preparing Blob/File data to be stored in object store"), and a transaction with
 * several such puts may then never complete nor abort (WebKitGTK 2.50, raw IndexedDB):
 * every later write of the origin would wait for it. So a write that holds a Blob is
 * checked first, and where Blobs are refused its ops fail alone, before any request.
 */
export function probeBlobs(db: IDBDatabase): Promise<boolean> {
  return new Promise((resolve) => {
    let tx: IDBTransaction
    try {
      tx = db.transaction('meta', 'readwrite')
    } catch {
      resolve(true)
      return
    }
    // One put: refused, it aborted at once in every run seen; silence counts as refused.
    const timer = setTimeout(() => resolve(false), 2000)
    const done = (stored: boolean): void => {
      clearTimeout(timer)
      resolve(stored)
    }
    const request = tx.objectStore('meta').put(new Blob(['offthread']), 'blobProbe')
    request.onsuccess = () => {
      done(true)
      tx.abort()
    }
    request.onerror = (event) => {
      event.preventDefault()
      done(false)
    }
    tx.onabort = () => done(false)
  })
}
