import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { idbStore } from '../../src/store/idb-store.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { JobRecord, Store, WriteOp } from '../../src/store/store.js'
import type { ErrorRecord, JobStatus, LogEntry } from '../../src/types.js'

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

describe.each([
  ['memoryStore', memoryStore],
  ['idbStore', idbStore],
] as const)('%s conforms to the Store interface', (_kind, create) => {
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

    it.each(['completed', 'failed', 'cancelled'] as const)(
      'a key is free again once its holder is put in final status %s',
      async (status) => {
        const store = await fresh()
        await seed(store, [job('a', { key: 'k' })])
        await update(store, 'a', { status: 'running' })
        // still held while running
        expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: false, reason: 'key' }])
        await update(store, 'a', { status, finishedAt: 5000 })
        expect(await store.write([insert(job('b', { key: 'k' }))])).toMatchObject([{ ok: true }])
        // and b holds it now
        expect(await store.write([insert(job('c', { key: 'k' }))])).toMatchObject([
          { ok: false, reason: 'key', job: { id: 'b' } },
        ])
      },
    )

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

    it('an existing id in an atomic batch rolls the batch back', async () => {
      const store = await fresh()
      const [x] = await seed(store, [job('x')])
      const results = await store.write([insert(job('a')), insert(job('x'))], { atomic: true })
      expect(results).toEqual([
        { ok: false, reason: 'aborted' },
        { ok: false, reason: 'exists', job: x },
      ])
      expect(await store.get(['a'])).toEqual([undefined])
    })

    it('an atomic batch of good ops is written whole', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a')), insert(job('b'))], { atomic: true })
      expect(results).toMatchObject([{ ok: true }, { ok: true }])
      expect((await store.get(['a', 'b'])).map((j) => j?.id)).toEqual(['a', 'b'])
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
      const results = await store.write([
        { op: 'put', job: { ...(a as JobRecord), status: 'completed', rev: 2 }, expect: ['running'] },
      ])
      expect(results).toEqual([{ ok: false, reason: 'conflict', job: a }])
      expect(await store.get(['a'])).toEqual([a])
    })

    it('with expect, succeeds when the stored status is one of those expected', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      const results = await store.write([
        { op: 'put', job: { ...(a as JobRecord), status: 'running', rev: 2 }, expect: ['delayed', 'waiting'] },
      ])
      expect(results).toEqual([{ ok: true }])
      expect((await store.get(['a']))[0]?.status).toBe('running')
    })

    it('with expect, gives "conflict" with no job when the job is missing', async () => {
      const store = await fresh()
      const ghost = { ...job('ghost'), seq: 99 }
      expect(await store.write([{ op: 'put', job: ghost, expect: ['waiting'] }])).toEqual([
        { ok: false, reason: 'conflict', job: undefined },
      ])
      expect(await store.get(['ghost'])).toEqual([undefined])
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
    it('getFull includes the result only when the job is completed', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await update(store, 'a', { status: 'running' })
      await store.write([{ op: 'result', id: 'a', value: { answer: 42 } }])
      const running = await store.getFull('a')
      expect(running?.status).toBe('running')
      expect(running?.data).toEqual({ for: 'a' })
      expect(running).not.toHaveProperty('result')

      await update(store, 'a', { status: 'completed', finishedAt: 5 })
      const completed = await store.getFull('a')
      expect(completed?.result).toEqual({ answer: 42 })
      expect(completed?.data).toEqual({ for: 'a' })
      expect(await store.getFull('missing')).toBeUndefined()
    })

    it('a result written with the completing put in one batch is read back', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      await store.write([
        { op: 'result', id: 'a', value: new Map([['k', 1]]) },
        { op: 'put', job: { ...(a as JobRecord), status: 'completed', finishedAt: 3, rev: 2 } },
      ])
      expect((await store.getFull('a'))?.result).toEqual(new Map([['k', 1]]))
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

    it('a write whose result cannot be cloned rejects and writes nothing of its batch', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      await expect(
        store.write([
          { op: 'put', job: { ...(a as JobRecord), status: 'completed', finishedAt: 1, rev: 2 } },
          { op: 'result', id: 'a', value: { fn: () => 1 } },
        ]),
      ).rejects.toBeDefined()
      expect(await store.get(['a'])).toEqual([a])
      // the store still works afterwards
      expect(await store.write([insert(job('b'))])).toMatchObject([{ ok: true }])
    })
  })

  describe('delete', () => {
    it('removes the job with its data, result, logs and errors, and leaves the others', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      for (const id of ['a', 'b']) {
        await store.write([
          { op: 'result', id, value: `result ${id}` },
          { op: 'log', id, entries: [log(`log ${id}`)] },
          { op: 'error', id, record: errorRecord(1) },
        ])
        await update(store, id, { status: 'completed', finishedAt: 1 })
      }
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
      await store.write([
        { op: 'result', id: 'a', value: 'old' },
        { op: 'log', id: 'a', entries: [log('old')] },
      ])
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

    it('lists every job newest first, with data', async () => {
      const store = await fresh()
      await seedList(store)
      const all = await store.list({})
      expect(all.map((j) => j.id)).toEqual(['j7', 'j6', 'j5', 'j4', 'j3', 'j2', 'j1'])
      expect(all[0]?.data).toEqual({ for: 'j7' })
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
      expect(await store.list({ limit: 0 })).toEqual([])
      expect(await store.list({ offset: 100 })).toEqual([])
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
})
