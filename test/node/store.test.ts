import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { idbStore } from '../../src/store/idb-store.js'
import { memoryStore } from '../../src/store/memory-store.js'
import { storesUnderTest } from './helpers/stores.js'
import type { ScheduleRecord, JobRecord, Store, StoredReleases, WriteOp } from '../../src/store/store.js'
import type { ReleaseRecord } from '../../src/shared/release.js'
import type { ErrorRecord, JobStatus, LogEntry } from '../../src/shared/types.js'

let counter = 0
const open: Store[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()))
})

type NewJob = Omit<JobRecord, 'seq'>

function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: 'task',
    queue: 'q',
    status: 'waiting',
    rev: 1,
    priority: 0,
    attempt: 1,
    createdAt: 1000,
    runAt: 1000,
    dependencies: [],
    options: {},
    interruptions: 0,
    ...overrides,
  }
}

const insert = (j: NewJob, data: unknown = { for: j.id }): WriteOp => ({ op: 'insert', job: j, data })

const log = (message: string, timestamp = 1): LogEntry => ({ level: 'info', message, timestamp })

const errorRecord = (attempt: number): ErrorRecord => ({ attempt, name: 'Error', message: `attempt ${attempt}`, failedAt: attempt })

describe.each(storesUnderTest({ memoryStore, idbStore }))('%s conforms to the Store interface', (_kind, create) => {
  /** A fresh, opened store under a queue name no other test uses. */
  async function fresh(): Promise<Store> {
    const store = create()
    await store.open(`store-test-${++counter}-${Date.now()}`)
    open.push(store)
    return store
  }

  /** Inserts jobs and returns their stored records (with seq). */
  async function seed(store: Store, jobs: NewJob[]): Promise<JobRecord[]> {
    const results = await store.write(jobs.map((j) => insert(j)))
    expect(results.every((r) => r.ok)).toBe(true)
    return (await store.get(jobs.map((j) => j.id))) as JobRecord[]
  }

  /** Rewrites a stored job with `changes`. */
  async function update(store: Store, id: string, changes: Partial<JobRecord>): Promise<void> {
    const [stored] = await store.get([id])
    if (!stored) throw new Error(`no job ${id}`)
    const results = await store.write([{ op: 'put', job: { ...stored, ...changes, rev: stored.rev + 1 } }])
    expect(results).toEqual([{ ok: true }])
  }

  /** Puts a stored job in status completed, with `result`, as the queue does when a job finishes. */
  async function complete(store: Store, id: string, result: unknown): Promise<JobRecord> {
    const [stored] = await store.get([id])
    if (!stored) throw new Error(`no job ${id}`)
    const completed: JobRecord = { ...stored, status: 'completed', finishedAt: 5, rev: stored.rev + 1 }
    expect(await store.write([{ op: 'put', job: completed, result }])).toEqual([{ ok: true }])
    return completed
  }

  it('write([]) resolves to no results', async () => {
    const store = await fresh()
    expect(await store.write([])).toEqual([])
  })

  describe('insert', () => {
    it('stores the job as given, with an increasing seq, within and across batches', async () => {
      const store = await fresh()
      const first = await store.write([insert(job('a')), insert(job('b'))])
      const second = await store.write([insert(job('c'))])
      const seqs = [...first, ...second].map((r) => (r.ok ? r.seq : undefined))
      expect(seqs.every((s) => typeof s === 'number')).toBe(true)
      const [a, b, c] = seqs as number[]
      expect(a).toBeLessThan(b as number)
      expect(b).toBeLessThan(c as number)

      const stored = await store.get(['a', 'b', 'c', 'missing'])
      expect(stored).toEqual([{ ...job('a'), seq: a }, { ...job('b'), seq: b }, { ...job('c'), seq: c }, undefined])
      expect(await store.getData(['a', 'c', 'missing'])).toEqual([{ for: 'a' }, { for: 'c' }, undefined])
    })

    it('an existing id gives reason "exists" with the stored job, and changes nothing', async () => {
      const store = await fresh()
      const [original] = await seed(store, [job('a', { name: 'first' })])
      const results = await store.write([insert(job('a', { name: 'second' }), 'other data')])
      expect(results).toEqual([{ ok: false, reason: 'exists', job: original }])
      expect(await store.get(['a'])).toEqual([original])
      expect(await store.getData(['a'])).toEqual([{ for: 'a' }])
    })

    it('an id inserted twice in one batch: the second gives "exists" with the first', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a', { name: 'one' })), insert(job('a', { name: 'two' }))])
      expect(results[0]).toMatchObject({ ok: true })
      expect(results[1]).toMatchObject({ ok: false, reason: 'exists', job: { id: 'a', name: 'one' } })
    })

    it('a key held by a non-final job gives reason "key" with the holder', async () => {
      const store = await fresh()
      const [holder] = await seed(store, [job('a', { key: 'k' })])
      const results = await store.write([insert(job('b', { key: 'k' }))])
      expect(results).toEqual([{ ok: false, reason: 'key', job: holder }])
      expect(await store.get(['b'])).toEqual([undefined])
      // another key is free
      expect(await store.write([insert(job('c', { key: 'other' }))])).toEqual([{ ok: true, seq: expect.any(Number) }])
    })

    it('a key taken earlier in the same batch gives "key"', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a', { key: 'k' })), insert(job('b', { key: 'k' }))])
      expect(results[0]).toMatchObject({ ok: true })
      expect(results[1]).toMatchObject({ ok: false, reason: 'key', job: { id: 'a' } })
    })

    it.each(['completed', 'failed', 'cancelled'] as const)('a key is free again once its holder is put in final status %s', async (status) => {
      const store = await fresh()
      await seed(store, [job('a', { key: 'k' })])
      await update(store, 'a', { status: 'running' })
      // still held while running
      expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: false, reason: 'key' }])
      await update(store, 'a', { status, finishedAt: 5000 })
      expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: true }])
      // and b holds it now
      expect(await store.write([insert(job('c', { key: 'k' }))])).toMatchObject([{ ok: false, reason: 'key', job: { id: 'b' } }])
    })

    it('a key is free once its holder is finished earlier in the same batch', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a', { key: 'k' })])
      const results = await store.write([
        { op: 'put', job: { ...(a as JobRecord), status: 'completed', finishedAt: 2, rev: 2 } },
        insert(job('b', { key: 'k' })),
      ])
      expect(results).toMatchObject([{ ok: true }, { ok: true }])
    })

    it('a key is free once its holder is deleted', async () => {
      const store = await fresh()
      await seed(store, [job('a', { key: 'k' })])
      await store.write([{ op: 'delete', ids: ['a'] }])
      expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: true }])
    })

    it('a job inserted in a final status does not hold its key', async () => {
      const store = await fresh()
      await seed(store, [job('a', { key: 'k', status: 'completed', finishedAt: 1 })])
      expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: true }])
    })

    it('uncloneable data gives "uncloneable" and writes nothing for that op; other ops of the batch succeed', async () => {
      const store = await fresh()
      const results = await store.write([
        insert(job('a')),
        insert(job('b', { key: 'kb' }), { callback: () => 1 }),
        insert(job('c')),
        { op: 'log', id: 'a', entries: [log('hello')] },
      ])
      expect(results[0]).toMatchObject({ ok: true })
      expect(results[1]).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect((results[1] as { error: unknown }).error).toBeDefined()
      expect(results[2]).toMatchObject({ ok: true })
      expect(results[3]).toEqual({ ok: true })
      const [a, b, c] = await store.get(['a', 'b', 'c'])
      expect(a?.id).toBe('a')
      expect(b).toBeUndefined()
      expect(c?.id).toBe('c')
      expect(await store.getData(['b'])).toEqual([undefined])
      expect(await store.getFull('b')).toBeUndefined()
      expect(await store.logs('a')).toEqual([log('hello')])
      // the skipped job took neither a key nor a place in the counts
      expect(await store.write([insert(job('d', { key: 'kb' }))])).toMatchObject([{ ok: true }])
      expect((await store.counts()).waiting).toBe(3)
    })
  })

  describe('atomic batches', () => {
    it('one uncloneable op writes nothing at all; the other ops say "aborted"', async () => {
      const store = await fresh()
      const [before] = await seed(store, [job('x')])
      const results = await store.write(
        [
          insert(job('a')),
          { op: 'put', job: { ...(before as JobRecord), status: 'running', rev: 2 } },
          insert(job('b'), { fn: () => 1 }),
          { op: 'log', id: 'x', entries: [log('nope')] },
        ],
        { atomic: true },
      )
      expect(results[0]).toEqual({ ok: false, reason: 'aborted' })
      expect(results[1]).toEqual({ ok: false, reason: 'aborted' })
      expect(results[2]).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(results[3]).toEqual({ ok: false, reason: 'aborted' })
      expect(await store.get(['a', 'b', 'x'])).toEqual([undefined, undefined, before])
      expect(await store.logs('x')).toEqual([])
      // the aborted inserts used no seq
      const [next] = await store.write([insert(job('c'))])
      expect(next).toEqual({ ok: true, seq: (before as JobRecord).seq + 1 })
    })

    it('an existing id in an atomic batch is no failure: the others are written, the caller learns of that job', async () => {
      const store = await fresh()
      const [x] = await seed(store, [job('x')])
      const results = await store.write([insert(job('a')), insert(job('x'))], { atomic: true })
      expect(results).toMatchObject([{ ok: true }, { ok: false, reason: 'exists', job: x }])
      expect((await store.get(['a']))[0]?.id).toBe('a')
    })

    it('uncloneable data in an atomic batch rolls the batch back', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a')), insert(job('b'), { fn: () => 1 })], { atomic: true })
      expect(results).toMatchObject([
        { ok: false, reason: 'aborted' },
        { ok: false, reason: 'uncloneable' },
      ])
      expect(await store.get(['a', 'b'])).toEqual([undefined, undefined])
    })

    it('an atomic batch of good ops is written whole', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a')), insert(job('b'))], { atomic: true })
      expect(results).toMatchObject([{ ok: true }, { ok: true }])
      expect((await store.get(['a', 'b'])).map((j) => j?.id)).toEqual(['a', 'b'])
    })

    /** 2,500 inserts: several of idbStore's 500-op chunks in one transaction. */
    const bigBatch = (): WriteOp[] => Array.from({ length: 2500 }, (_, i) => insert(job(`big-${i}`), { i }))

    it('an atomic batch of 2,500 inserts commits all of them', async () => {
      const store = await fresh()
      const results = await store.write(bigBatch(), { atomic: true })
      expect(results).toHaveLength(2500)
      expect(results.every((r) => r.ok)).toBe(true)
      const seqs = results.map((r) => (r.ok ? r.seq : undefined)) as number[]
      expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))).toBe(true)
      expect((await store.counts()).waiting).toBe(2500)
      expect(await store.getData(['big-0', 'big-499', 'big-500', 'big-1999', 'big-2499'])).toEqual([
        { i: 0 },
        { i: 499 },
        { i: 500 },
        { i: 1999 },
        { i: 2499 },
      ])
    })

    it('the same batch of 2,500 with one uncloneable insert in the middle commits none', async () => {
      const store = await fresh()
      const ops = bigBatch()
      ops[1250] = insert(job('big-1250'), { fn: () => 1 })
      const results = await store.write(ops, { atomic: true })
      expect(results).toHaveLength(2500)
      expect(results[1250]).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(results.filter((r) => !r.ok && r.reason === 'aborted')).toHaveLength(2499)
      expect(Object.values(await store.counts()).every((n) => n === 0)).toBe(true)
      expect(await store.get(['big-0', 'big-499', 'big-500', 'big-2499'])).toEqual([undefined, undefined, undefined, undefined])
      expect(await store.getData(['big-0', 'big-2499'])).toEqual([undefined, undefined])
      // nothing of it used a seq, and the store still works
      expect(await store.write([insert(job('after'))])).toEqual([{ ok: true, seq: 1 }])
    })
  })

  describe('put', () => {
    it('replaces the metadata', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      const next: JobRecord = { ...(a as JobRecord), status: 'running', startedAt: 10, progress: { step: 2 }, rev: 2 }
      expect(await store.write([{ op: 'put', job: next }])).toEqual([{ ok: true }])
      expect(await store.get(['a'])).toEqual([next])
      // data is untouched
      expect(await store.getData(['a'])).toEqual([{ for: 'a' }])
    })

    it('with expect, gives "conflict" with the stored job when its status differs, and writes nothing', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      const results = await store.write([{ op: 'put', job: { ...(a as JobRecord), status: 'completed', rev: 2 }, expect: ['running'] }])
      expect(results).toEqual([{ ok: false, reason: 'conflict', job: a }])
      expect(await store.get(['a'])).toEqual([a])
    })

    it('with expect, succeeds when the stored status is one of those expected', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      const results = await store.write([{ op: 'put', job: { ...(a as JobRecord), status: 'running', rev: 2 }, expect: ['delayed', 'waiting'] }])
      expect(results).toEqual([{ ok: true }])
      expect((await store.get(['a']))[0]?.status).toBe('running')
    })

    it('with expect, gives "conflict" with no job when the job is missing', async () => {
      const store = await fresh()
      const ghost = { ...job('ghost'), seq: 99 }
      expect(await store.write([{ op: 'put', job: ghost, expect: ['waiting'] }])).toEqual([{ ok: false, reason: 'conflict', job: undefined }])
      expect(await store.get(['ghost'])).toEqual([undefined])
    })

    it("a job's data, small or large, survives every state change, and a put with data replaces it either way", async () => {
      const store = await fresh()
      const large = { text: 'x'.repeat(4096) }
      const small = { n: 1, tags: ['a', 'b'], nested: { ok: true, none: null } }
      const values: Array<[string, unknown]> = [
        ['small', small],
        ['large', large],
        ['none', undefined],
        ['bytes', new Uint8Array([1, 2, 3])],
        ['date', new Date(5)],
      ]
      expect(await store.write(values.map(([id, data]): WriteOp => ({ op: 'insert', job: job(id), data })))).toEqual(
        values.map(() => expect.objectContaining({ ok: true })),
      )
      for (const [id] of values) {
        await update(store, id, { status: 'running', startedAt: 2, progress: { step: 1 } })
        await complete(store, id, `done ${id}`)
      }
      expect(await store.getData(values.map(([id]) => id))).toEqual(values.map(([, data]) => data))
      for (const [id, data] of values) expect(await store.getFull(id)).toMatchObject({ status: 'completed', data, result: `done ${id}` })
      const listed = await store.list({ data: true })
      expect(new Map(listed.map((j) => [j.id, j.data]))).toEqual(new Map(values))
      // Without { data: true }, nothing of the data comes with a job.
      for (const j of await store.list({})) expect(Object.keys(j)).not.toEqual(expect.arrayContaining(['data']))
      for (const j of await store.get(values.map(([id]) => id))) expect(j && Object.keys(j)).not.toEqual(expect.arrayContaining(['input']))
      // A retry with new data: small replaces large, large replaces small, and back.
      const swaps: Array<[string, unknown]> = [
        ['small', large],
        ['large', small],
        ['none', 'now some'],
      ]
      for (const [id, data] of swaps) {
        const [stored] = await store.get([id])
        expect(await store.write([{ op: 'put', job: { ...(stored as JobRecord), status: 'waiting', rev: 9 }, data }])).toEqual([{ ok: true }])
        await update(store, id, { status: 'running' })
      }
      expect(await store.getData(swaps.map(([id]) => id))).toEqual(swaps.map(([, data]) => data))
      const [back] = await store.get(['large'])
      await store.write([{ op: 'put', job: { ...(back as JobRecord), rev: 20 }, data: large }])
      expect(await store.getData(['large'])).toEqual([large])
      // New data that looks small and plain but will not clone: the put fails alone, the old data stays.
      const [kept] = await store.get(['large'])
      const [refused] = await store.write([{ op: 'put', job: { ...(kept as JobRecord), rev: 21 }, data: { x: new Proxy({ a: 1 }, {}) } }])
      expect(refused).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(await store.getData(['large'])).toEqual([large])
      expect((await store.get(['large']))[0]?.rev).toBe(20)
    })

    it('expect sees the effect of an earlier op in the same batch', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      const running = { ...(a as JobRecord), status: 'running' as const, rev: 2 }
      const results = await store.write([
        { op: 'put', job: running, expect: ['waiting'] },
        { op: 'put', job: { ...running, status: 'completed', rev: 3 }, expect: ['waiting'] },
      ])
      expect(results).toEqual([{ ok: true }, { ok: false, reason: 'conflict', job: running }])
    })
  })

  describe('results, logs, errors and reads', () => {
    it('getFull and list include the result only when the job is completed', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await update(store, 'a', { status: 'running' })
      const running = await store.getFull('a')
      expect(running?.status).toBe('running')
      expect(running?.data).toEqual({ for: 'a' })
      expect(running).not.toHaveProperty('result')

      const completedRecord = await complete(store, 'a', { answer: 42 })
      const completed = await store.getFull('a')
      expect(completed).toEqual({ ...completedRecord, data: { for: 'a' }, result: { answer: 42 } })
      // Without its data: the metadata and the result.
      expect(await store.getFull('a', { data: false })).toEqual({ ...completedRecord, result: { answer: 42 } })
      expect(await store.getFull('missing')).toBeUndefined()

      // list: data and result only when asked.
      const listed = await store.list({ data: true })
      expect(listed.map((j) => j.id)).toEqual(['b', 'a'])
      expect(listed[0]).not.toHaveProperty('result')
      expect(listed[1]?.result).toEqual({ answer: 42 })
      expect((await store.list({ status: 'completed', data: true }))[0]?.result).toEqual({ answer: 42 })
      const bare = await store.list({})
      expect(bare[1]).toEqual(completedRecord)
      // the metadata reads never carry the result
      expect(await store.get(['a'])).toEqual([completedRecord])
    })

    it('a structured result (a Map) written with the completing put is read back as such', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const value = new Map<string, unknown>([
        ['k', 1],
        ['nested', { at: new Date(5), set: new Set([1, 2]) }],
      ])
      await complete(store, 'a', value)
      const result = (await store.getFull('a'))?.result
      expect(result).toBeInstanceOf(Map)
      expect(result).toEqual(value)
      // a copy, not the value given
      expect(result).not.toBe(value)
    })

    it('an undefined result of a completed job reads back as undefined', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await complete(store, 'a', undefined)
      const completed = await store.getFull('a')
      expect(completed?.status).toBe('completed')
      expect(completed?.result).toBeUndefined()
    })

    it('a put with a result on a job that is not completed makes no result visible', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      for (const status of ['running', 'failed', 'waiting'] as const) {
        const put: JobRecord = { ...(a as JobRecord), status, rev: (a as JobRecord).rev + 1 }
        expect(await store.write([{ op: 'put', job: put, result: { answer: status } }])).toEqual([{ ok: true }])
        expect(await store.getFull('a')).not.toHaveProperty('result')
        expect((await store.list({}))[0]).not.toHaveProperty('result')
      }
    })

    it('a result put with a job that is not completed is not kept for a later completion', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const [a] = await store.get(['a'])
      const running: JobRecord = { ...(a as JobRecord), status: 'running', rev: 2 }
      await store.write([{ op: 'put', job: running, result: 'too early' }])
      // completed by a put without a result
      await store.write([{ op: 'put', job: { ...running, status: 'completed', finishedAt: 5, rev: 3 } }])
      const completed = await store.getFull('a')
      expect(completed?.status).toBe('completed')
      expect(completed?.result).toBeUndefined()
    })

    it('logs are read back in the order they were written, per job', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await store.write([
        { op: 'log', id: 'a', entries: [log('one', 1), log('two', 2)] },
        { op: 'log', id: 'b', entries: [log('b-one', 1)] },
      ])
      await store.write([{ op: 'log', id: 'a', entries: [{ level: 'warn', message: 'three', meta: { n: 3 }, timestamp: 3 }] }])
      expect(await store.logs('a')).toEqual([log('one', 1), log('two', 2), { level: 'warn', message: 'three', meta: { n: 3 }, timestamp: 3 }])
      expect(await store.logs('b')).toEqual([log('b-one', 1)])
      expect(await store.logs('none')).toEqual([])
    })

    it('errors are read back in the order they were written, per job', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await store.write([{ op: 'error', id: 'a', record: errorRecord(1) }])
      await store.write([
        { op: 'error', id: 'b', record: errorRecord(1) },
        { op: 'error', id: 'a', record: errorRecord(2) },
      ])
      await store.write([{ op: 'error', id: 'a', record: errorRecord(3) }])
      expect(await store.errors('a')).toEqual([errorRecord(1), errorRecord(2), errorRecord(3)])
      expect(await store.errors('b')).toEqual([errorRecord(1)])
      expect(await store.errors('none')).toEqual([])
    })

    it('reads return copies: changing them does not change the store', async () => {
      const store = await fresh()
      await seed(store, [job('a', { dependencies: [] })])
      const [a] = await store.get(['a'])
      ;(a as JobRecord).dependencies.push('x')
      const full = await store.getFull('a')
      ;(full?.data as { for: string }).for = 'changed'
      expect((await store.get(['a']))[0]?.dependencies).toEqual([])
      expect(await store.getData(['a'])).toEqual([{ for: 'a' }])
    })

    it('a put whose result cannot be stored fails alone (uncloneable); the other ops of its batch are written', async () => {
      const store = await fresh()
      const [a, x] = await seed(store, [job('a'), job('x')])
      const results = await store.write([
        insert(job('before')),
        { op: 'put', job: { ...(x as JobRecord), status: 'running', rev: 2 } },
        { op: 'put', job: { ...(a as JobRecord), status: 'completed', finishedAt: 1, rev: 2 }, result: { fn: () => 1 } },
        { op: 'log', id: 'a', entries: [log('kept')] },
      ])
      expect(results).toMatchObject([{ ok: true }, { ok: true }, { ok: false, reason: 'uncloneable' }, { ok: true }])
      const [storedA, storedX, before] = await store.get(['a', 'x', 'before'])
      expect(storedA).toEqual(a)
      expect(storedX).toMatchObject({ status: 'running', rev: 2 })
      expect(before?.id).toBe('before')
      expect(await store.getFull('a')).not.toHaveProperty('result')
      expect((await store.logs('a')).map((l) => l.message)).toEqual(['kept'])
    })

    it('a log line whose meta cannot be stored keeps its message, and the lines next to it', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await store.write([{ op: 'log', id: 'a', entries: [log('one'), { ...log('two'), meta: { fn: () => 1 } }, log('three')] }])
      const logs = await store.logs('a')
      expect(logs.map((l) => l.message)).toEqual(['one', 'two', 'three'])
      expect(String((logs[1]?.meta as { unserializable?: string }).unserializable)).toContain('could not be stored')
    })
  })

  describe('counts', () => {
    it('stay exact through inserts, status changes, lost conditions, rolled-back batches and deletes', async () => {
      const store = await fresh()
      const scanned = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = { waiting: 0, delayed: 0, blocked: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }
        await store.scan(['waiting', 'delayed', 'blocked', 'running', 'completed', 'failed', 'cancelled'], (j) => void out[j.status]!++)
        return out
      }
      await seed(store, [job('a'), job('b'), job('c', { status: 'delayed' }), job('d')])
      await update(store, 'a', { status: 'running' })
      await complete(store, 'a', 1)
      // A put whose condition fails changes nothing; a put to the same status changes nothing.
      const [b] = await store.get(['b'])
      await store.write([{ op: 'put', job: { ...(b as JobRecord), status: 'failed', rev: 9 }, expect: ['running'] }])
      await update(store, 'b', { priority: 5 })
      // An atomic batch rolled back (a lost condition in it) changes nothing.
      const [c] = await store.get(['c'])
      await store.write(
        [
          { op: 'put', job: { ...(c as JobRecord), status: 'waiting', rev: 2 } },
          { op: 'put', job: { ...(b as JobRecord), status: 'failed', rev: 10 }, expect: ['running'] },
        ],
        { atomic: true },
      )
      // An insert of an id that exists is no new job.
      await store.write([insert(job('d'))])
      await store.write([{ op: 'delete', ids: ['d', 'd', 'missing'] }])
      expect(await store.counts()).toEqual(await scanned())
      expect(await store.counts()).toMatchObject({ waiting: 1, delayed: 1, completed: 1 })
    })
  })

  describe('durable steps', () => {
    it('stores a step only while its job is running; steps() reads them by id; delete removes them', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      // Waiting: a runner that does not hold the job stores nothing.
      const [refused] = await store.write([{ op: 'step', id: 'a', step: 's1', value: 1 }])
      expect(refused).toMatchObject({ ok: false, reason: 'conflict' })
      await update(store, 'a', { status: 'running' })
      expect(
        await store.write([
          { op: 'step', id: 'a', step: 's1', value: { n: 1 } },
          { op: 'step', id: 'a', step: 's2', value: [2] },
        ]),
      ).toEqual([{ ok: true }, { ok: true }])
      // A value that cannot be stored fails alone.
      const [bad] = await store.write([{ op: 'step', id: 'a', step: 's3', value: () => 3 }])
      expect(bad).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(await store.steps?.('a')).toEqual({ s1: { n: 1 }, s2: [2] })
      expect(await store.steps?.('b')).toEqual({})
      expect(await store.write([{ op: 'step', id: 'missing', step: 's1', value: 1 }])).toEqual([{ ok: false, reason: 'conflict', job: undefined }])
      await store.write([{ op: 'delete', ids: ['a'] }])
      expect(await store.steps?.('a')).toEqual({})
    })
  })

  describe('delete', () => {
    it('removes the job with its data, result, logs and errors, and leaves the others', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      for (const id of ['a', 'b']) {
        await store.write([
          { op: 'log', id, entries: [log(`log ${id}`)] },
          { op: 'error', id, record: errorRecord(1) },
        ])
        await complete(store, id, `result ${id}`)
      }
      expect((await store.getFull('a'))?.result).toBe('result a')
      expect(await store.write([{ op: 'delete', ids: ['a', 'missing'] }])).toEqual([{ ok: true }])
      expect(await store.get(['a'])).toEqual([undefined])
      expect(await store.getFull('a')).toBeUndefined()
      expect(await store.getData(['a'])).toEqual([undefined])
      expect(await store.logs('a')).toEqual([])
      expect(await store.errors('a')).toEqual([])
      expect((await store.counts()).completed).toBe(1)

      const b = await store.getFull('b')
      expect(b?.result).toBe('result b')
      expect(await store.logs('b')).toEqual([log('log b')])
      expect(await store.errors('b')).toEqual([errorRecord(1)])
    })

    it('a job re-inserted under a deleted id starts clean', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await store.write([{ op: 'log', id: 'a', entries: [log('old')] }])
      await complete(store, 'a', 'old')
      await store.write([{ op: 'delete', ids: ['a'] }])
      await seed(store, [job('a')])
      await update(store, 'a', { status: 'completed', finishedAt: 1 })
      expect((await store.getFull('a'))?.result).toBeUndefined()
      expect(await store.logs('a')).toEqual([])
    })
  })

  describe('list and counts', () => {
    async function seedList(store: Store): Promise<void> {
      await seed(store, [
        job('j1', { name: 'resize' }),
        job('j2', { name: 'encode' }),
        job('j3', { name: 'resize', status: 'running' }),
        job('j4', { name: 'resize', status: 'completed', finishedAt: 4 }),
        job('j5', { name: 'encode', status: 'failed', finishedAt: 5 }),
        job('j6', { name: 'resize' }),
        job('j7', { name: 'encode', status: 'delayed', runAt: 9999 }),
      ])
    }

    it('lists every job newest first, with data only when asked', async () => {
      const store = await fresh()
      await seedList(store)
      const all = await store.list({})
      expect(all.map((j) => j.id)).toEqual(['j7', 'j6', 'j5', 'j4', 'j3', 'j2', 'j1'])
      expect(all[0]).not.toHaveProperty('data')
      const withData = await store.list({ data: true })
      expect(withData.map((j) => j.id)).toEqual(['j7', 'j6', 'j5', 'j4', 'j3', 'j2', 'j1'])
      expect(withData[0]?.data).toEqual({ for: 'j7' })
    })

    it('filters by one status, and by an array of statuses', async () => {
      const store = await fresh()
      await seedList(store)
      expect((await store.list({ status: 'waiting' })).map((j) => j.id)).toEqual(['j6', 'j2', 'j1'])
      expect((await store.list({ status: ['completed', 'failed'] })).map((j) => j.id)).toEqual(['j5', 'j4'])
      expect((await store.list({ status: ['running'] })).map((j) => j.id)).toEqual(['j3'])
      expect(await store.list({ status: 'cancelled' })).toEqual([])
      expect(await store.list({ status: [] })).toEqual([])
    })

    it('filters by name, alone and with a status', async () => {
      const store = await fresh()
      await seedList(store)
      expect((await store.list({ name: 'encode' })).map((j) => j.id)).toEqual(['j7', 'j5', 'j2'])
      expect((await store.list({ name: 'resize', status: 'waiting' })).map((j) => j.id)).toEqual(['j6', 'j1'])
      expect(await store.list({ name: 'nope' })).toEqual([])
    })

    it('pages with limit and offset after filtering', async () => {
      const store = await fresh()
      await seedList(store)
      expect((await store.list({ limit: 2 })).map((j) => j.id)).toEqual(['j7', 'j6'])
      expect((await store.list({ limit: 2, offset: 2 })).map((j) => j.id)).toEqual(['j5', 'j4'])
      expect((await store.list({ offset: 5 })).map((j) => j.id)).toEqual(['j2', 'j1'])
      expect((await store.list({ name: 'resize', limit: 2, offset: 1 })).map((j) => j.id)).toEqual(['j4', 'j3'])
      expect((await store.list({ status: 'waiting', offset: 1, limit: 1 })).map((j) => j.id)).toEqual(['j2'])
      // Several statuses (merged newest first), with a name, paged.
      expect((await store.list({ status: ['waiting', 'completed'], name: 'resize', offset: 1, limit: 2 })).map((j) => j.id)).toEqual(['j4', 'j1'])
      expect((await store.list({ status: ['waiting', 'failed'], offset: 2 })).map((j) => j.id)).toEqual(['j2', 'j1'])
      expect((await store.list({ status: ['failed', 'waiting', 'waiting'], limit: 2 })).map((j) => j.id)).toEqual(['j6', 'j5'])
      expect(await store.list({ limit: 0 })).toEqual([])
      expect(await store.list({ offset: 100 })).toEqual([])
    })

    it('pages by keyset: before a seq, with any filter, each job once', async () => {
      const store = await fresh()
      await seedList(store)
      const all = await store.list({})
      const seqOf = (id: string): number => all.find((j) => j.id === id)?.seq as number
      expect((await store.list({ before: seqOf('j5'), limit: 2 })).map((j) => j.id)).toEqual(['j4', 'j3'])
      expect((await store.list({ before: seqOf('j6'), status: 'waiting' })).map((j) => j.id)).toEqual(['j2', 'j1'])
      expect((await store.list({ before: seqOf('j6'), name: 'resize' })).map((j) => j.id)).toEqual(['j4', 'j3', 'j1'])
      expect((await store.list({ before: seqOf('j6'), name: 'resize', status: 'waiting' })).map((j) => j.id)).toEqual(['j1'])
      expect((await store.list({ before: seqOf('j6'), status: ['waiting', 'completed'], limit: 2 })).map((j) => j.id)).toEqual(['j4', 'j2'])
      expect((await store.list({ before: seqOf('j3'), offset: 1 })).map((j) => j.id)).toEqual(['j1'])
      expect(await store.list({ before: seqOf('j1') })).toEqual([])
      // Page by page, newest first: every job once.
      const seen: string[] = []
      for (let page = await store.list({ limit: 3 }); page.length > 0; page = await store.list({ limit: 3, before: page.at(-1)?.seq })) {
        seen.push(...page.map((j) => j.id))
      }
      expect(seen).toEqual(all.map((j) => j.id))
    })

    it('pages far into a long list, from whichever end is nearer, with and without filters', async () => {
      const store = await fresh()
      const total = 1300
      await seed(
        store,
        Array.from({ length: total }, (_, i) => job(`k${i}`, { name: i % 2 ? 'odd' : 'even' })),
      )
      const ids = (from: number, to: number, step = 1): string[] => {
        const out: string[] = []
        for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(`k${i}`)
        return out
      }
      // Newest first: k1299 is at offset 0.
      expect((await store.list({ offset: 1250, limit: 20 })).map((j) => j.id)).toEqual(ids(49, 29, -1))
      expect((await store.list({ offset: 1290, limit: 20 })).map((j) => j.id)).toEqual(ids(9, -1, -1))
      expect((await store.list({ offset: 1100, limit: 10 })).map((j) => j.id)).toEqual(ids(199, 189, -1))
      expect(await store.list({ offset: 1300, limit: 5 })).toEqual([])
      // 650 odd jobs: k1299, k1297, … ; offset 640 leaves the 10 oldest.
      expect((await store.list({ name: 'odd', offset: 640, limit: 20 })).map((j) => j.id)).toEqual(ids(19, 0, -2))
      expect((await store.list({ status: 'waiting', name: 'even', offset: 1001, limit: 2 })).map((j) => j.id)).toEqual([])
      expect((await store.list({ status: 'waiting', offset: 1200, limit: 3 })).map((j) => j.id)).toEqual(ids(99, 96, -1))
    })

    it('list follows a status change', async () => {
      const store = await fresh()
      await seedList(store)
      await update(store, 'j1', { status: 'cancelled', finishedAt: 8 })
      expect((await store.list({ status: 'cancelled' })).map((j) => j.id)).toEqual(['j1'])
      expect((await store.list({ status: 'waiting' })).map((j) => j.id)).toEqual(['j6', 'j2'])
    })

    it('counts jobs in every status, zeros included', async () => {
      const store = await fresh()
      expect(await store.counts()).toEqual({
        waiting: 0,
        delayed: 0,
        blocked: 0,
        running: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      })
      await seedList(store)
      expect(await store.counts()).toEqual({
        waiting: 3,
        delayed: 1,
        blocked: 0,
        running: 1,
        completed: 1,
        failed: 1,
        cancelled: 0,
      })
    })
  })

  describe('pending', () => {
    it("'ready' gives the waiting jobs by priority, highest first, then in insertion order", async () => {
      const store = await fresh()
      const stored = await seed(store, [
        job('w-p0-1'),
        job('w-p5-1', { priority: 5 }),
        job('r-p9', { priority: 9, status: 'running' }),
        job('w-neg', { priority: -3 }),
        job('d-p9', { priority: 9, status: 'delayed', runAt: 2000 }),
        job('w-p5-2', { priority: 5, key: 'k' }),
        job('c-p9', { priority: 9, status: 'completed', finishedAt: 1 }),
        job('w-p0-2'),
        job('b-p9', { priority: 9, status: 'blocked' }),
        job('w-p10', { priority: 10 }),
        job('f-p9', { priority: 9, status: 'failed', finishedAt: 1 }),
        job('x-p9', { priority: 9, status: 'cancelled', finishedAt: 1 }),
      ])
      const byId = new Map(stored.map((j) => [j.id, j]))
      const order = ['w-p10', 'w-p5-1', 'w-p5-2', 'w-p0-1', 'w-p0-2', 'w-neg']
      const ready = await store.pending('ready', 100)
      expect(ready.map((j) => j.id)).toEqual(order)
      // records as stored, without store-internal fields
      expect(ready).toEqual(order.map((id) => byId.get(id)))
    })

    it("'ready' gives at most `limit` jobs: the first of that order", async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b', { priority: 1 }), job('c'), job('d', { priority: 2 }), job('e')])
      expect((await store.pending('ready', 3)).map((j) => j.id)).toEqual(['d', 'b', 'a'])
      expect((await store.pending('ready', 1)).map((j) => j.id)).toEqual(['d'])
      expect((await store.pending('ready', 5)).map((j) => j.id)).toEqual(['d', 'b', 'a', 'c', 'e'])
    })

    it("'ready' follows status and priority changes", async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b'), job('c'), job('d', { status: 'delayed', runAt: 5000 })])
      await update(store, 'a', { status: 'running' })
      await update(store, 'c', { priority: 1 })
      await update(store, 'd', { status: 'waiting' })
      expect((await store.pending('ready', 10)).map((j) => j.id)).toEqual(['c', 'b', 'd'])
      await store.write([{ op: 'delete', ids: ['c'] }])
      expect((await store.pending('ready', 10)).map((j) => j.id)).toEqual(['b', 'd'])
    })

    it("'delayed' gives the delayed jobs by runAt, soonest first", async () => {
      const store = await fresh()
      const stored = await seed(store, [
        job('d3000', { status: 'delayed', runAt: 3000 }),
        job('w', { runAt: 10 }),
        job('d1000', { status: 'delayed', runAt: 1000, priority: -5 }),
        job('r', { status: 'running', runAt: 20 }),
        job('d5000', { status: 'delayed', runAt: 5000, priority: 9 }),
        job('b', { status: 'blocked', runAt: 30 }),
        job('d2000', { status: 'delayed', runAt: 2000, key: 'k' }),
        job('c', { status: 'completed', runAt: 40, finishedAt: 1 }),
        job('d4000', { status: 'delayed', runAt: 4000 }),
      ])
      const byId = new Map(stored.map((j) => [j.id, j]))
      const order = ['d1000', 'd2000', 'd3000', 'd4000', 'd5000']
      const delayed = await store.pending('delayed', 100)
      expect(delayed.map((j) => j.id)).toEqual(order)
      expect(delayed).toEqual(order.map((id) => byId.get(id)))
      expect((await store.pending('delayed', 2)).map((j) => j.id)).toEqual(['d1000', 'd2000'])
      expect((await store.pending('delayed', 5)).map((j) => j.id)).toEqual(order)
    })

    it("'delayed' follows runAt and status changes", async () => {
      const store = await fresh()
      await seed(store, [
        job('a', { status: 'delayed', runAt: 1000 }),
        job('b', { status: 'delayed', runAt: 2000 }),
        job('c', { status: 'delayed', runAt: 3000 }),
      ])
      await update(store, 'a', { status: 'waiting' })
      await update(store, 'c', { runAt: 1500 })
      expect((await store.pending('delayed', 10)).map((j) => j.id)).toEqual(['c', 'b'])
      expect((await store.pending('ready', 10)).map((j) => j.id)).toEqual(['a'])
    })

    it('gives nothing when no job is in that status', async () => {
      const store = await fresh()
      expect(await store.pending('ready', 10)).toEqual([])
      expect(await store.pending('delayed', 10)).toEqual([])
      await seed(store, [job('r', { status: 'running' }), job('c', { status: 'completed', finishedAt: 1 })])
      expect(await store.pending('ready', 10)).toEqual([])
      expect(await store.pending('delayed', 10)).toEqual([])
    })

    it('windows over more than 500 waiting jobs', async () => {
      const store = await fresh()
      const jobs = Array.from({ length: 700 }, (_, i) => job(`j-${i}`, { priority: i % 3 }))
      await seed(store, jobs)
      const ready = await store.pending('ready', 600)
      expect(ready).toHaveLength(600)
      const expected = [2, 1, 0].flatMap((p) => jobs.filter((j) => j.priority === p).map((j) => j.id)).slice(0, 600)
      expect(ready.map((j) => j.id)).toEqual(expected)
    })
  })

  describe('schedules', () => {
    const schedule = (fields: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
      id: 's',
      name: 'task',
      every: 100,
      data: null,
      options: {},
      onMissed: 'once',
      overlap: false,
      paused: false,
      nextRunAt: 100,
      createdAt: 0,
      ...fields,
    })

    it('a fired schedule writes only its run onto the stored one: a pause made meanwhile stands, and stops the fire', async () => {
      const store = await fresh()
      await store.write([{ op: 'schedule', schedule: schedule() }])
      // Fired from an older copy: only the run fields land.
      expect(
        await store.write([{ op: 'schedule', schedule: schedule({ nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1', every: 999 }), fired: 'due' }]),
      ).toEqual([{ ok: true }])
      expect(await store.schedules()).toMatchObject([{ id: 's', every: 100, nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1' }])
      await store.write([{ op: 'schedule', schedule: { ...((await store.schedules())[0] as ScheduleRecord), paused: true } }])
      const [result] = await store.write([{ op: 'schedule', schedule: schedule({ nextRunAt: 300 }), fired: 'due' }])
      expect(result).toMatchObject({ ok: false, reason: 'conflict' })
      expect(await store.schedules()).toMatchObject([{ paused: true, nextRunAt: 200 }])
      // A manual trigger runs a paused schedule.
      expect(await store.write([{ op: 'schedule', schedule: schedule({ lastJobId: 'manual' }), fired: 'trigger' }])).toEqual([{ ok: true }])
      expect(await store.schedules()).toMatchObject([{ paused: true, lastJobId: 'manual' }])
    })

    it('a fired schedule that was removed is not written back; its job is rolled back with it', async () => {
      const store = await fresh()
      await store.write([{ op: 'schedule', schedule: schedule() }])
      await store.write([{ op: 'unschedule', id: 's' }])
      const results = await store.write([insert(job('run')), { op: 'schedule', schedule: schedule({ lastJobId: 'run' }), fired: 'due' }], {
        atomic: true,
      })
      expect(results).toMatchObject([
        { ok: false, reason: 'aborted' },
        { ok: false, reason: 'conflict' },
      ])
      expect(await store.schedules()).toEqual([])
      expect(await store.get(['run'])).toEqual([undefined])
    })
  })

  describe('dependents', () => {
    it('finds the jobs that list an id in their dependencies, and follows deletes', async () => {
      const store = await fresh()
      await seed(store, [
        job('a'),
        job('b'),
        job('c', { status: 'blocked', dependencies: ['a', 'b'] }),
        job('d', { status: 'blocked', dependencies: ['a'] }),
        job('e', { dependencies: ['b'] }),
      ])
      expect((await store.dependents('a')).map((j) => j.id).sort()).toEqual(['c', 'd'])
      expect((await store.dependents('b')).map((j) => j.id).sort()).toEqual(['c', 'e'])
      expect(await store.dependents('c')).toEqual([])
      await store.write([{ op: 'delete', ids: ['c'] }])
      expect((await store.dependents('a')).map((j) => j.id)).toEqual(['d'])
    })
  })

  describe('scan', () => {
    it('visits only jobs of the given statuses, each status in seq order, across more than 500 jobs', async () => {
      const store = await fresh()
      const statuses: JobStatus[] = ['waiting', 'delayed', 'completed', 'running']
      const jobs = Array.from({ length: 1300 }, (_, i) => {
        // waiting gets well over one 500-job page
        const status = i % 10 < 6 ? 'waiting' : (statuses[i % 4] as JobStatus)
        return job(`job-${i}`, status === 'completed' ? { status, finishedAt: i } : { status })
      })
      await seed(store, jobs)
      const stored = (await store.get(jobs.map((j) => j.id))) as JobRecord[]

      const visited: JobRecord[] = []
      await store.scan(['waiting', 'running'], (j) => visited.push(j))

      const expected = stored.filter((j) => j.status === 'waiting' || j.status === 'running')
      expect(expected.filter((j) => j.status === 'waiting').length).toBeGreaterThan(500)
      expect(visited).toHaveLength(expected.length)
      expect(new Set(visited.map((j) => j.id))).toEqual(new Set(expected.map((j) => j.id)))
      for (const status of ['waiting', 'running'] as const) {
        const seqs = visited.filter((j) => j.status === status).map((j) => j.seq)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      }
      // records as stored, without store-internal fields
      const byId = new Map(stored.map((j) => [j.id, j]))
      for (const j of visited) expect(j).toEqual(byId.get(j.id))
    })

    it('visits nothing for statuses no job is in', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const visited: string[] = []
      await store.scan(['blocked', 'cancelled'], (j) => visited.push(j.id))
      await store.scan([], (j) => visited.push(j.id))
      expect(visited).toEqual([])
    })
  })

  describe('expired', () => {
    async function seedFinished(store: Store): Promise<void> {
      await seed(store, [
        job('c300', { status: 'completed', finishedAt: 300 }),
        job('c100', { status: 'completed', finishedAt: 100 }),
        job('c500', { status: 'completed', finishedAt: 500 }),
        job('c200', { status: 'completed', finishedAt: 200 }),
        job('c400', { status: 'completed', finishedAt: 400 }),
        job('f050', { status: 'failed', finishedAt: 50 }),
        job('w', { status: 'waiting' }),
      ])
    }

    it('with finishedBefore, gives the jobs of that status that finished earlier, oldest first', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { finishedBefore: 300 }, 100)).toEqual(['c100', 'c200'])
      expect(await store.expired('completed', { finishedBefore: 50 }, 100)).toEqual([])
      expect(await store.expired('failed', { finishedBefore: 1000 }, 100)).toEqual(['f050'])
    })

    it('with keep, gives the jobs beyond the newest `keep`, oldest first', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { keep: 2 }, 100)).toEqual(['c100', 'c200', 'c300'])
      expect(await store.expired('completed', { keep: 0 }, 100)).toEqual(['c100', 'c200', 'c300', 'c400', 'c500'])
      expect(await store.expired('completed', { keep: 5 }, 100)).toEqual([])
      expect(await store.expired('completed', { keep: 10 }, 100)).toEqual([])
    })

    it('with both, gives the union: too old or beyond keep', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { finishedBefore: 350, keep: 4 }, 100)).toEqual(['c100', 'c200', 'c300'])
      expect(await store.expired('completed', { finishedBefore: 150, keep: 2 }, 100)).toEqual(['c100', 'c200', 'c300'])
    })

    it('gives at most `limit` ids, and nothing without a rule', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { keep: 0 }, 2)).toEqual(['c100', 'c200'])
      expect(await store.expired('completed', {}, 100)).toEqual([])
    })

    it('follows deletes: expired jobs once deleted are gone', async () => {
      const store = await fresh()
      await seedFinished(store)
      const ids = await store.expired('completed', { keep: 3 }, 100)
      await store.write([{ op: 'delete', ids }])
      expect(await store.expired('completed', { keep: 3 }, 100)).toEqual([])
      expect((await store.counts()).completed).toBe(3)
    })
  })

  describe('fencing', () => {
    it('claims a runner token; ops fenced with another token write nothing and give "fenced"', async () => {
      const store = await fresh()
      expect(store.fencing).toBe(true)
      await seed(store, [job('a'), job('b')])
      // No token claimed yet: any fenced op is refused.
      expect(await store.write([{ op: 'put', job: { ...((await store.get(['a']))[0] as JobRecord), priority: 9 }, fence: 't1' }])).toEqual([
        { ok: false, reason: 'fenced' },
      ])
      expect(await store.write([{ op: 'claim', token: 't1' }])).toEqual([{ ok: true }])
      const a = (await store.get(['a']))[0] as JobRecord
      expect(await store.write([{ op: 'put', job: { ...a, status: 'running' }, expect: ['waiting'], fence: 't1' }])).toEqual([{ ok: true }])
      // Another runner takes over: the first one's writes, of every kind, are refused.
      await store.write([{ op: 'claim', token: 't2' }])
      const before = await store.counts()
      const refused = await store.write([
        { op: 'put', job: { ...a, status: 'completed', finishedAt: 5 }, expect: ['running'], result: 1, fence: 't1' },
        { op: 'step', id: 'a', step: 's', value: 1, fence: 't1' },
        { op: 'log', id: 'a', entries: [log('late')], fence: 't1' },
        { op: 'error', id: 'a', record: errorRecord(1), fence: 't1' },
        { op: 'insert', job: job('c'), data: 1, fence: 't1' },
        { op: 'delete', ids: ['b'], fence: 't1' },
        { op: 'claim', token: 't1', fence: 't1' },
      ])
      expect(refused.every((r) => !r.ok && r.reason === 'fenced')).toBe(true)
      expect((await store.get(['a', 'b', 'c'])).map((j) => j?.status)).toEqual(['running', 'waiting', undefined])
      expect(await store.logs('a')).toEqual([])
      expect(await store.errors('a')).toEqual([])
      expect(await store.steps?.('a')).toEqual({})
      expect(await store.counts()).toEqual(before)
      // Unfenced ops (another tab's add, cancel) and the holder's own still land, in the same batch.
      const mixed = await store.write([
        { op: 'insert', job: job('d'), data: 1 },
        { op: 'step', id: 'a', step: 's', value: 2, fence: 't2' },
        { op: 'put', job: { ...a, status: 'completed' }, expect: ['running'], fence: 't1' },
      ])
      expect(mixed.map((r) => r.ok)).toEqual([true, true, false])
      expect(await store.steps?.('a')).toEqual({ s: 2 })
    })

    it('a claim is seen by the ops after it in its batch; a fenced op rolls an atomic batch back', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      expect(
        await store.write([
          { op: 'claim', token: 'x' },
          { op: 'insert', job: job('b'), data: 1, fence: 'x' },
        ]),
      ).toEqual([{ ok: true }, { ok: true, seq: 2 }])
      const atomic = await store.write(
        [
          { op: 'insert', job: job('c'), data: 1 },
          { op: 'insert', job: job('e'), data: 1, fence: 'y' },
        ],
        { atomic: true },
      )
      expect(atomic).toEqual([
        { ok: false, reason: 'aborted' },
        { ok: false, reason: 'fenced' },
      ])
      expect((await store.get(['c', 'e'])).every((j) => j === undefined)).toBe(true)
      expect((await store.counts()).waiting).toBe(2)
    })
  })

  describe('releases', () => {
    const release = (version: string | number, tasks: string[], seenAt = 1): ReleaseRecord => ({
      version,
      tasks: Object.fromEntries(tasks.map((name) => [name, name === 'slow' ? { timeout: 5, concurrency: 2, rateLimit: { max: 1, per: 10 } } : {}])),
      seenAt,
    })

    it("keeps one record per release, replaced by a later one of the same version, and the runner's", async () => {
      const store = await fresh()
      expect(await store.releases?.()).toEqual({ known: [], runner: undefined })
      expect(await store.write([{ op: 'release', release: release(1, ['a', 'slow']) }])).toEqual([{ ok: true }])
      await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 2) }])
      await store.write([{ op: 'release', release: release(1, ['a', 'slow'], 3) }])
      const read = (await store.releases?.()) as StoredReleases
      expect(read.runner).toBeUndefined()
      expect(read.known.sort((x, y) => x.seenAt - y.seenAt)).toEqual([release('1.10', ['a', 'b'], 2), release(1, ['a', 'slow'], 3)])
      await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 4), runner: true }])
      expect((await store.releases?.())?.runner).toEqual(release('1.10', ['a', 'b'], 4))
      // Another tab announces the runner's release again: it stays the runner's.
      await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 5) }])
      expect((await store.releases?.())?.runner).toEqual(release('1.10', ['a', 'b'], 5))
    })

    it('drops the releases named in `drop`; a fenced release op of a runner that lost its place writes nothing', async () => {
      const store = await fresh()
      await store.write([{ op: 'release', release: release('old', ['a']) }])
      await store.write([{ op: 'claim', token: 't1' }])
      expect(
        await store.write([{ op: 'release', release: release('new', ['a', 'b'], 2), runner: true, drop: ['old', 'never-stored'], fence: 't1' }]),
      ).toEqual([{ ok: true }])
      expect(await store.releases?.()).toEqual({ known: [release('new', ['a', 'b'], 2)], runner: release('new', ['a', 'b'], 2) })
      await store.write([{ op: 'claim', token: 't2' }])
      expect(await store.write([{ op: 'release', release: release('late', ['a']), runner: true, fence: 't1' }])).toEqual([
        { ok: false, reason: 'fenced' },
      ])
      expect((await store.releases?.())?.runner?.version).toBe('new')
    })

    it("a job's release and why it waits are kept with it", async () => {
      const store = await fresh()
      await seed(store, [job('a', { version: '2.1' })])
      await update(store, 'a', { waitingFor: 'release' })
      expect((await store.get(['a']))[0]).toMatchObject({ version: '2.1', waitingFor: 'release', status: 'waiting' })
      expect((await store.list({ limit: 10 }))[0]).toMatchObject({ version: '2.1', waitingFor: 'release' })
    })
  })
})

describe('idbStore schema', () => {
  it('has the object stores jobs, data, logs, errors, meta, schedules and steps, and no results store', async () => {
    const queue = `store-schema-${++counter}-${Date.now()}`
    const store = idbStore({ prefix: 'schema-test:' })
    await store.open(queue)
    open.push(store)
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(`schema-test:${queue}`)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    try {
      expect([...db.objectStoreNames].sort()).toEqual(['data', 'errors', 'jobs', 'logs', 'meta', 'schedules', 'steps'])
    } finally {
      db.close()
    }
  })
})
