/**
 * The Store contract, the views of many jobs: `list` (filters, offset and keyset paging),
 * `counts`, and `pending` (the windows the runner dispatches from).
 */
import type { Store } from '../store.js'
import { job, type ContractKit } from './kit.js'

/** Registers the cases of list, counts and pending. */
export function listCases(kit: ContractKit): void {
  const { describe, it, expect, fresh, seed, update } = kit

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
}
