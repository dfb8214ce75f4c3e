/**
 * Leases (src/store/idb-lease.ts): idbStore keeps `running` in one lease record instead
 * of a put of each job's row. What every reader sees must not change: another tab's
 * `get`, `list`, `counts`, `pending` and `scan` during a batch; a crash with a lease and
 * no outcomes; the lease of a runner that lost its place; an entry a row written since
 * makes stale. memoryStore, which keeps `running` in its rows, is the oracle.
 */
import { describe, expect, it } from 'vitest'
import { deleteDB, openDB } from 'idb'
import { idbStore, memoryStore } from '../../src/index.js'
import type { JobRecord, ListQuery, Store, WriteOp } from '../../src/store/store.js'
import { job } from '../../src/store/contract/kit.js'
import { makeQueue } from './fixtures/queue.js'
import { until } from '../helpers/until.js'

let count = 0
const fresh = () => `lease-${Date.now()}-${++count}`

/** The raw rows and the lease record, as IndexedDB holds them. */
async function raw(name: string, ids: string[]): Promise<{ statuses: Array<string | undefined>; leased: string[] }> {
  const db = await openDB(`offthread:${name}`)
  const tx = db.transaction(['jobs', 'meta'])
  const rows = await Promise.all(ids.map((id) => tx.objectStore('jobs').get(id) as Promise<{ status: string } | undefined>))
  const lease = (await tx.objectStore('meta').get('leases')) as { jobs: JobRecord[] } | undefined
  db.close()
  return { statuses: rows.map((row) => row?.status), leased: (lease?.jobs ?? []).map((j) => j.id).sort() }
}

/** A start, as a runner writes it: `running`, the attempt's revision, fenced. */
const start = (j: JobRecord, fence?: string): WriteOp => ({
  op: 'put',
  job: { ...j, status: 'running', startedAt: 5000, rev: j.rev + 1 },
  expect: ['waiting', 'delayed'],
  ...(fence ? { fence } : {}),
})

describe('leases: running without a put per job', () => {
  it('a reader in another tab during a batch sees the batch running; the rows stay waiting; the lease goes with the outcomes', async () => {
    const queue = makeQueue()
    const handles = await Promise.all([300, 300].map((ms) => queue.add('sleep', ms)))
    const ids = handles.map((h) => h.id).sort()
    // Its own connection to the database, as another tab has.
    const other = idbStore()
    await other.open(queue.name)
    try {
      await until(async () => (await other.counts()).running === 2, 'both jobs running')
      expect((await other.get(ids)).map((j) => j?.status)).toEqual(['running', 'running'])
      expect((await other.list({ status: 'running' })).map((j) => j.id).sort()).toEqual(ids)
      expect(await other.list({ status: 'waiting' })).toEqual([])
      expect((await other.list({})).map((j) => j.status)).toEqual(['running', 'running'])
      expect(await other.pending('ready', 10)).toEqual([])
      const scanned: string[] = []
      await other.scan(['running'], (j) => scanned.push(j.id))
      expect(scanned.sort()).toEqual(ids)
      // How it is stored: the rows as they were, the lease holding both.
      expect(await raw(queue.name, ids)).toEqual({ statuses: ['waiting', 'waiting'], leased: ids })
      await Promise.all(handles.map((h) => h.result()))
      expect(await raw(queue.name, ids)).toEqual({ statuses: ['completed', 'completed'], leased: [] })
      expect(await other.counts()).toMatchObject({ running: 0, waiting: 0, completed: 2 })
    } finally {
      await other.close()
    }
  })

  it('a crash with a lease and no outcomes: the next runner finds the jobs running, counts the interruption, and runs them', async () => {
    const name = fresh()
    const store = idbStore()
    await store.open(name)
    await store.write([
      { op: 'insert', job: job('a', { name: 'echo', queue: name }), data: 'A' },
      { op: 'insert', job: job('b', { name: 'echo', queue: name }), data: 'B' },
      { op: 'claim', token: 'gone' },
    ])
    const stored = (await store.get(['a', 'b'])) as JobRecord[]
    expect((await store.write(stored.map((j) => start(j, 'gone')))).every((r) => r.ok)).toBe(true)
    expect(await raw(name, ['a', 'b'])).toEqual({ statuses: ['waiting', 'waiting'], leased: ['a', 'b'] })
    expect(await store.counts()).toMatchObject({ waiting: 0, running: 2 })
    // The runner's tab is gone: no outcome was written.
    await store.close()
    const queue = makeQueue({ name })
    const results = await Promise.all(['a', 'b'].map(async (id) => (await queue.getJob(id))?.result()))
    expect(results).toEqual(['A', 'B'])
    const check = idbStore()
    await check.open(name)
    try {
      expect((await check.get(['a', 'b'])).map((j) => [j?.status, j?.interruptions, j?.attempt])).toEqual([
        ['completed', 1, 1],
        ['completed', 1, 1],
      ])
      expect((await check.errors('a'))[0]?.name).toBe('InterruptedError')
      expect(await check.counts()).toMatchObject({ running: 0, completed: 2 })
    } finally {
      await check.close()
    }
    expect((await raw(name, ['a', 'b'])).leased).toEqual([])
  })

  it('the lease of a runner that lost its place: its writes are refused, its jobs stay running until the new runner moves them', async () => {
    const name = fresh()
    const store = idbStore()
    await store.open(name)
    try {
      await store.write([
        { op: 'insert', job: job('a'), data: 1 },
        { op: 'insert', job: job('b'), data: 2 },
        { op: 'claim', token: 't1' },
      ])
      const [a, b] = (await store.get(['a', 'b'])) as [JobRecord, JobRecord]
      expect(await store.write([start(a, 't1')])).toEqual([{ ok: true }])
      // Another runner takes over.
      await store.write([{ op: 'claim', token: 't2' }])
      const running = (await store.get(['a']))[0] as JobRecord
      // The old runner's outcome and its next start are refused; nothing moves.
      expect(
        await store.write([
          {
            op: 'put',
            job: { ...running, status: 'completed', finishedAt: 6000, rev: running.rev + 1 },
            expect: ['running'],
            result: 1,
            fence: 't1',
          },
          start(b, 't1'),
        ]),
      ).toEqual([
        { ok: false, reason: 'fenced' },
        { ok: false, reason: 'fenced' },
      ])
      expect((await store.get(['a', 'b'])).map((j) => j?.status)).toEqual(['running', 'waiting'])
      expect(await raw(name, ['a', 'b'])).toEqual({ statuses: ['waiting', 'waiting'], leased: ['a'] })
      // The new runner interrupts what it finds running: the row is written, the lease is empty.
      const found: JobRecord[] = []
      await store.scan(['running'], (j) => found.push(j))
      expect(found.map((j) => j.id)).toEqual(['a'])
      const back = { ...running, status: 'waiting' as const, interruptions: 1, rev: running.rev + 1 }
      expect(await store.write([{ op: 'put', job: back, expect: ['running'], fence: 't2' }])).toEqual([{ ok: true }])
      expect(await raw(name, ['a', 'b'])).toEqual({ statuses: ['waiting', 'waiting'], leased: [] })
      expect(await store.counts()).toMatchObject({ waiting: 2, running: 0 })
      expect((await store.pending('ready', 10)).map((j) => j.id)).toEqual(['a', 'b'])
    } finally {
      await store.close()
      await deleteDB(`offthread:${name}`)
    }
  })

  it('an entry made stale by a row written since (a release that knows no leases) is ignored, and a claim clears it', async () => {
    const name = fresh()
    const store = idbStore()
    await store.open(name)
    try {
      await store.write([
        { op: 'insert', job: job('a'), data: 1 },
        { op: 'insert', job: job('b'), data: 2 },
      ])
      const [a, b] = (await store.get(['a', 'b'])) as [JobRecord, JobRecord]
      await store.write([start(a), start(b)])
      // Older code finishes `a` in its row, and leaves the lease as it is.
      const db = await openDB(`offthread:${name}`)
      const row = await db.get('jobs', 'a')
      await db.put('jobs', { ...row, status: 'completed', rev: a.rev + 2, finishedAt: 7000 })
      db.close()
      expect((await store.get(['a', 'b'])).map((j) => j?.status)).toEqual(['completed', 'running'])
      expect((await store.list({ status: 'running' })).map((j) => j.id)).toEqual(['b'])
      expect((await raw(name, ['a'])).leased).toEqual(['a', 'b'])
      await store.write([{ op: 'claim', token: 'next' }])
      expect((await raw(name, ['a'])).leased).toEqual(['b'])
    } finally {
      await store.close()
      await deleteDB(`offthread:${name}`)
    }
  })

  it('every read agrees with memoryStore (rows for running) over leased, materialized, waiting, delayed and finished jobs', async () => {
    const name = fresh()
    const stores: Store[] = [memoryStore(), idbStore()]
    for (const store of stores) await store.open(name)
    try {
      const inserts: WriteOp[] = []
      for (let i = 0; i < 40; i++) {
        const delayed = i % 5 === 4
        inserts.push({
          op: 'insert',
          job: job(`j${String(i).padStart(2, '0')}`, {
            name: i % 3 === 0 ? 'x' : 'y',
            priority: i % 4,
            ...(delayed ? { status: 'delayed' as const, runAt: 50_000 + i } : {}),
            ...(i === 7 ? { debounce: 'deb' } : {}),
            ...(i === 9 ? { dependencies: ['j00'] } : {}),
          }),
          data: i,
        })
      }
      // Started: a spread of waiting and delayed jobs; then one gets a progress (its row is written),
      // one completes, one is deleted, and one goes back to waiting.
      const started = ['j01', 'j03', 'j04', 'j09', 'j12', 'j19', 'j20', 'j31', 'j33', 'j38', 'j39']
      for (const store of stores) {
        await store.write(inserts)
        const jobs = (await store.get(started)) as JobRecord[]
        await store.write(jobs.map((j) => start(j)))
        const [p, c, , w] = (await store.get(['j03', 'j12', 'j20', 'j33'])) as JobRecord[]
        await store.write([
          { op: 'put', job: { ...(p as JobRecord), progress: 50, rev: (p as JobRecord).rev + 1 }, expect: ['running'] },
          {
            op: 'put',
            job: { ...(c as JobRecord), status: 'completed', finishedAt: 9000, rev: (c as JobRecord).rev + 1 },
            expect: ['running'],
            result: 'done',
          },
          { op: 'delete', ids: ['j20'] },
          { op: 'put', job: { ...(w as JobRecord), status: 'waiting', interruptions: 1, rev: (w as JobRecord).rev + 1 }, expect: ['running'] },
        ])
      }
      const [memory, idb] = stores as [Store, Store]
      const view = (jobs: ReadonlyArray<JobRecord | undefined>) => jobs.map((j) => j && `${j.id}:${j.status}:${j.rev}`)
      const queries: ListQuery[] = [{ limit: Infinity }, { status: ['waiting', 'running'], limit: Infinity }]
      for (const status of ['waiting', 'running', 'delayed', 'completed'] as const) {
        for (const name of [undefined, 'x', 'y']) {
          for (const [offset, limit] of [
            [0, Infinity],
            [0, 3],
            [2, 3],
            [5, 4],
            [11, 10],
          ] as const) {
            queries.push({ status, offset, limit, ...(name ? { name } : {}) })
          }
          queries.push({ status, before: 30, limit: 4, ...(name ? { name } : {}) })
        }
      }
      for (const query of queries) expect(view(await idb.list(query)), JSON.stringify(query)).toEqual(view(await memory.list(query)))
      expect(view(await idb.list({ status: 'running', data: true, limit: Infinity }))).toEqual(
        view(await memory.list({ status: 'running', data: true, limit: Infinity })),
      )
      expect(await idb.counts()).toEqual(await memory.counts())
      const ids = inserts.map((op) => (op.op === 'insert' ? op.job.id : ''))
      expect(view(await idb.get(ids))).toEqual(view(await memory.get(ids)))
      for (const limit of [1, 5, 100]) {
        expect(view(await idb.pending('ready', limit))).toEqual(view(await memory.pending('ready', limit)))
        expect(view(await idb.pending('delayed', limit))).toEqual(view(await memory.pending('delayed', limit)))
      }
      for (const status of ['running', 'waiting', 'delayed'] as const) {
        const seen = async (store: Store) => {
          const out: JobRecord[] = []
          await store.scan([status], (j) => out.push(j))
          return view(out).sort()
        }
        expect(await seen(idb)).toEqual(await seen(memory))
      }
      expect(view([await idb.debounced('deb')])).toEqual(view([await memory.debounced('deb')]))
      expect(view(await idb.dependents('j00'))).toEqual(view(await memory.dependents('j00')))
      expect((await idb.getFull('j03'))?.status).toBe('running')
      expect((await idb.getFull('j01'))?.data).toBe(1)
      // A step is stored only while its job runs: a leased one does.
      expect(await idb.write([{ op: 'step', id: 'j01', step: 's', value: 1 }])).toEqual([{ ok: true }])
    } finally {
      for (const store of stores) await store.close()
      await deleteDB(`offthread:${name}`)
    }
  })
})
