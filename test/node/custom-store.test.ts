/**
 * A user's own Store: a small key-value store over a plain Map of JSON
 * strings (one string per job, one per schedule), written from scratch
 * against the exported `Store` interface, and a queue on it running jobs in
 * Node worker threads through `nodeWorker`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type {
  ErrorRecord,
  JobRecord,
  JobStatus,
  ListOptions,
  LogEntry,
  ScheduleRecord,
  Store,
  StoredJob,
  WriteOp,
  WriteResult,
} from '../../src/store.js'
import { signalStep } from '../../src/store.js'
import { conformanceCases } from '../conformance/suite.js'
import { expectAssert } from '../conformance/expect-assert.js'
import { ensureDist } from './helpers/ensure-dist.js'

// ---- The store -------------------------------------------------------------

/** Everything kept about one job, as one JSON string. */
interface JobEntry {
  job: JobRecord
  data: unknown
  result?: unknown
  logs: LogEntry[]
  errors: ErrorRecord[]
  /** Durable step results (`ctx.step`), by step id. */
  steps?: Record<string, unknown>
}

const STATUSES: JobStatus[] = ['waiting', 'delayed', 'blocked', 'running', 'completed', 'failed', 'cancelled']
const FINAL: JobStatus[] = ['completed', 'failed', 'cancelled']

/**
 * A Store over any string key-value map (here a Map; localStorage or a file
 * would do the same). Values are JSON, so job data and results must be JSON:
 * what `JSON.stringify` refuses (a BigInt, a cycle) is reported `uncloneable`.
 */
class JsonKvStore implements Store {
  readonly kind = 'json-kv'
  #kv: Map<string, string>
  #prefix = ''

  constructor(kv: Map<string, string>) {
    this.#kv = kv
  }

  async open(queue: string): Promise<void> {
    this.#prefix = `${queue}:`
  }

  async close(): Promise<void> {}

  // Keys: `<queue>:job:<id>`, `<queue>:schedule:<id>`, `<queue>:seq`.
  #read<T>(key: string, staged?: Map<string, string | undefined>): T | undefined {
    const text = staged?.has(key) ? staged.get(key) : this.#kv.get(this.#prefix + key)
    return text === undefined ? undefined : (JSON.parse(text) as T)
  }

  #entries(staged?: Map<string, string | undefined>): JobEntry[] {
    const out: JobEntry[] = []
    const seen = new Set<string>()
    for (const [key, text] of staged ?? []) {
      seen.add(key)
      if (key.startsWith('job:') && text !== undefined) out.push(JSON.parse(text) as JobEntry)
    }
    for (const [full, text] of this.#kv) {
      if (!full.startsWith(this.#prefix)) continue
      const key = full.slice(this.#prefix.length)
      if (key.startsWith('job:') && !seen.has(key)) out.push(JSON.parse(text) as JobEntry)
    }
    return out
  }

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    // Every op writes into `staged`; the batch is applied at the end (or not at all).
    const staged = new Map<string, string | undefined>()
    const entry = (id: string): JobEntry | undefined => this.#read<JobEntry>(`job:${id}`, staged)
    const save = (value: JobEntry): void => void staged.set(`job:${value.job.id}`, JSON.stringify(value))
    let seq = this.#read<number>('seq', staged) ?? 0
    const results: WriteResult[] = []
    for (const op of ops) {
      switch (op.op) {
        case 'insert': {
          const existing = entry(op.job.id)
          if (existing) {
            results.push({ ok: false, reason: 'exists', job: existing.job })
            break
          }
          const key = op.job.key
          const holder = key === undefined ? undefined : this.#entries(staged).find((e) => e.job.key === key && !FINAL.includes(e.job.status))
          if (holder) {
            results.push({ ok: false, reason: 'key', job: holder.job })
            break
          }
          let text: string
          try {
            text = JSON.stringify({ job: { ...op.job, seq: seq + 1 }, data: op.data, logs: [], errors: [] } satisfies JobEntry)
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          seq++
          staged.set(`job:${op.job.id}`, text)
          results.push({ ok: true, seq })
          break
        }
        case 'put': {
          const stored = entry(op.job.id)
          if (op.expect && (!stored || !op.expect.includes(stored.job.status))) {
            results.push({ ok: false, reason: 'conflict', job: stored?.job })
            break
          }
          const next: JobEntry = {
            job: op.job,
            data: 'data' in op ? op.data : stored?.data,
            logs: stored?.logs ?? [],
            errors: stored?.errors ?? [],
            steps: stored?.steps ?? {},
          }
          // A result belongs to a completing put only; any other put drops it.
          if ('result' in op && op.job.status === 'completed') next.result = op.result
          save(next)
          results.push({ ok: true })
          break
        }
        // Never sent here: a store without `fencing` keeps no runner token (and its runner is never taken
        // over), and one without `releases()` keeps no releases (tabs check names against their own worker).
        case 'claim':
        case 'release':
          results.push({ ok: true })
          break
        case 'log': {
          const stored = entry(op.id)
          if (stored) save({ ...stored, logs: [...stored.logs, ...op.entries] })
          results.push({ ok: true })
          break
        }
        case 'error': {
          const stored = entry(op.id)
          if (stored) save({ ...stored, errors: [...stored.errors, op.record] })
          results.push({ ok: true })
          break
        }
        case 'delete':
          for (const id of op.ids) staged.set(`job:${id}`, undefined)
          results.push({ ok: true })
          break
        case 'schedule':
          staged.set(`schedule:${op.schedule.id}`, JSON.stringify(op.schedule))
          results.push({ ok: true })
          break
        case 'unschedule':
          staged.set(`schedule:${op.id}`, undefined)
          results.push({ ok: true })
          break
        case 'step': {
          // Only while the job is running: a runner that lost it stores nothing.
          const stored = entry(op.id)
          if (stored?.job.status !== 'running') {
            results.push({ ok: false, reason: 'conflict', job: stored?.job })
            break
          }
          try {
            save({ ...stored, steps: { ...stored.steps, [op.step]: JSON.parse(JSON.stringify(op.value)) as unknown } })
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          results.push({ ok: true })
          break
        }
        case 'signal': {
          // Kept while the job is unfinished (as a step); a job waiting for it wakes.
          const stored = entry(op.id)
          if (!stored || FINAL.includes(stored.job.status)) {
            results.push({ ok: false, reason: 'conflict', job: stored?.job })
            break
          }
          let payload: unknown
          try {
            payload = JSON.parse(JSON.stringify(op.payload)) as unknown
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          const steps = { ...stored.steps, [signalStep(op.name)]: { payload } }
          if (stored.job.status === 'delayed' && stored.job.signal === op.name) {
            const job: JobRecord = { ...stored.job, status: 'waiting', runAt: op.at, rev: stored.job.rev + 1 }
            delete job.signal
            delete job.waitingFor
            save({ ...stored, job, steps })
            results.push({ ok: true, job: { ...job } })
          } else {
            save({ ...stored, steps })
            results.push({ ok: true })
          }
          break
        }
      }
    }
    if (options.atomic && results.some((r) => !r.ok)) return results.map((r) => (r.ok ? { ok: false, reason: 'aborted' } : r))
    staged.set('seq', JSON.stringify(seq))
    for (const [key, text] of staged) {
      if (text === undefined) this.#kv.delete(this.#prefix + key)
      else this.#kv.set(this.#prefix + key, text)
    }
    return results
  }

  async get(ids: readonly string[]): Promise<Array<JobRecord | undefined>> {
    return ids.map((id) => this.#read<JobEntry>(`job:${id}`)?.job)
  }

  async getFull(id: string): Promise<StoredJob | undefined> {
    const stored = this.#read<JobEntry>(`job:${id}`)
    return stored && full(stored)
  }

  async getData(ids: readonly string[]): Promise<unknown[]> {
    return ids.map((id) => this.#read<JobEntry>(`job:${id}`)?.data)
  }

  async list(query: ListOptions): Promise<StoredJob[]> {
    const statuses = query.status === undefined ? undefined : ([] as JobStatus[]).concat(query.status)
    const offset = query.offset ?? 0
    return this.#entries()
      .filter((e) => (!statuses || statuses.includes(e.job.status)) && (!query.name || e.job.name === query.name))
      .sort((a, b) => b.job.seq - a.job.seq)
      .slice(offset, query.limit === undefined ? undefined : offset + query.limit)
      .map(full)
  }

  async counts(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>
    for (const { job } of this.#entries()) counts[job.status]++
    return counts
  }

  async pending(kind: 'ready' | 'delayed', limit: number): Promise<JobRecord[]> {
    const status = kind === 'ready' ? 'waiting' : 'delayed'
    return this.#jobs()
      .filter((job) => job.status === status)
      .sort((a, b) => (kind === 'ready' ? b.priority - a.priority || a.seq - b.seq : a.runAt - b.runAt || a.seq - b.seq))
      .slice(0, limit)
  }

  async schedules(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = []
    for (const [key, text] of this.#kv) if (key.startsWith(`${this.#prefix}schedule:`)) out.push(JSON.parse(text) as ScheduleRecord)
    return out
  }

  async debounced(key: string): Promise<JobRecord | undefined> {
    return this.#jobs().find((job) => job.debounce === key && job.status === 'delayed')
  }

  async dependents(id: string): Promise<JobRecord[]> {
    return this.#jobs().filter((job) => job.dependencies.includes(id))
  }

  async scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void> {
    for (const job of this.#jobs()
      .filter((j) => statuses.includes(j.status))
      .sort((a, b) => a.seq - b.seq))
      visit(job)
  }

  async logs(id: string): Promise<LogEntry[]> {
    return this.#read<JobEntry>(`job:${id}`)?.logs ?? []
  }

  async errors(id: string): Promise<ErrorRecord[]> {
    return this.#read<JobEntry>(`job:${id}`)?.errors ?? []
  }

  async steps(id: string): Promise<Record<string, unknown>> {
    return this.#read<JobEntry>(`job:${id}`)?.steps ?? {}
  }

  async expired(status: JobStatus, rule: { finishedBefore?: number; keep?: number }, limit: number): Promise<string[]> {
    const finished = this.#jobs()
      .filter((job) => job.status === status)
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    const overCount = rule.keep === undefined ? 0 : Math.max(0, finished.length - rule.keep)
    const out: string[] = []
    for (const [i, job] of finished.entries()) {
      if (out.length >= limit) break
      const old = rule.finishedBefore !== undefined && (job.finishedAt ?? 0) < rule.finishedBefore
      if (old || i < overCount) out.push(job.id)
      else break
    }
    return out
  }

  #jobs(): JobRecord[] {
    return this.#entries().map((e) => e.job)
  }
}

/** A stored job with its data and, once completed, its result. */
function full(entry: JobEntry): StoredJob {
  const out: StoredJob = { ...entry.job, data: entry.data }
  if (entry.job.status === 'completed' && 'result' in entry) out.result = entry.result
  return out
}

// ---- The queue on it -------------------------------------------------------

await ensureDist()
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof import('../../src/index.js')
const { nodeWorker } = (await import(new URL('../../dist/node.js', import.meta.url).href)) as typeof import('../../src/node.js')

const workerUrl = new URL('../conformance/tasks.worker.js', import.meta.url)
const open: Array<{ close(options: { timeout: number }): Promise<void> }> = []
let count = 0

function queueOn(kv: Map<string, string>, options: object = {}) {
  const queue = lib.createQueue({ name: `custom-${++count}`, store: new JsonKvStore(kv), worker: () => nodeWorker(workerUrl), ...options })
  open.push(queue)
  return queue
}

afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close({ timeout: 0 }).catch(() => undefined)
})

describe('a custom Store (JSON strings in a Map) under a queue on Node worker threads', () => {
  it('keeps each job as one JSON string: record, data, result, logs and errors', async () => {
    const kv = new Map<string, string>()
    const queue = queueOn(kv)
    const job = await queue.add('report', 2)
    expect(await job.result()).toBe('reported')
    const failed = await queue.add('fail', 'no')
    await expect(failed.result()).rejects.toBeInstanceOf(lib.JobFailedError)
    const stored = JSON.parse(kv.get(`${queue.name}:job:${job.id}`) ?? 'null') as JobEntry
    expect(stored.job.status).toBe('completed')
    expect(stored.data).toBe(2)
    expect(stored.result).toBe('reported')
    expect(stored.logs.map((entry) => entry.message)).toEqual(['step 1', 'step 2', 'almost done'])
    const failedEntry = JSON.parse(kv.get(`${queue.name}:job:${failed.id}`) ?? 'null') as JobEntry
    expect(failedEntry.errors).toMatchObject([{ attempt: 1, name: 'CustomError', message: 'no' }])
    expect(await queue.counts()).toMatchObject({ completed: 1, failed: 1, waiting: 0 })
    expect((await queue.list({ status: 'completed' })).map((j) => j.id)).toEqual([job.id])
    expect(await queue.clean({ status: ['completed', 'failed'] })).toBe(2)
    expect([...kv.keys()].filter((key) => key.includes(':job:'))).toEqual([])
  })

  it('keys deduplicate, uncloneable data is refused, atomic batches roll back', async () => {
    const queue = queueOn(new Map(), { autostart: false })
    const first = await queue.add('echo', 'one', { key: 'k' })
    expect(await queue.add('echo', 'two', { key: 'k' })).toBe(first)
    await expect(queue.add('echo', { big: 10n })).rejects.toBeInstanceOf(lib.JobDataError)
    await expect(
      queue.addBulk([
        { name: 'echo', data: 'ok' },
        { name: 'echo', data: { big: 1n } },
      ]),
    ).rejects.toBeInstanceOf(lib.JobDataError)
    expect((await queue.counts()).waiting).toBe(1)
  })

  it('waiting jobs outlive the queue: a new queue on the same map runs them', async () => {
    const kv = new Map<string, string>()
    const name = `custom-resume-${Date.now()}`
    const before = queueOn(kv, { name, autostart: false })
    const job = await before.add('double', 4)
    await before.close({ timeout: 0 })
    const after = queueOn(kv, { name })
    const again = await after.getJob(job.id)
    expect(await again?.result()).toBe(8)
  })

  describe('the conformance suite on this store', () => {
    let n = 0
    const makeQueue = (options: object = {}) => queueOn(new Map(), { name: `custom-conformance-${++n}`, ...options })
    for (const { name, run } of conformanceCases({ lib, makeQueue, assert: expectAssert })) it(name, run)
  })
})
