/**
 * The Store contract's cases of groups: a job's group kept with it, and (when the store
 * has `groups`) each group's own settings, changed field by field by the `group` op.
 */
import type { GroupRecord } from '../store.js'
import { job, type ContractKit } from './kit.js'

const byId = (records: GroupRecord[] | undefined): GroupRecord[] => [...(records ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/** Registers the cases of groups. */
export function groupCases(kit: ContractKit): void {
  const { describe, it, expect, has, fresh, seed, update } = kit

  describe('groups', () => {
    it("a job's group is kept with it, in get, list and pending", async () => {
      const store = await fresh()
      await seed(store, [job('a', { options: { group: 'user-42' } }), job('b')])
      expect((await store.get(['a']))[0]?.options.group).toBe('user-42')
      await update(store, 'a', { priority: 1 })
      expect((await store.get(['a']))[0]?.options).toEqual({ group: 'user-42' })
      expect((await store.list({ limit: 10 })).find((j) => j.id === 'a')?.options.group).toBe('user-42')
      expect((await store.pending('ready', 10)).map((j) => [j.id, j.options.group])).toEqual([
        ['a', 'user-42'],
        ['b', undefined],
      ])
    })

    // Optional (Store.groups): without it, groups have their task's and queue's limits only.
    if (has.groups) {
      it('a group op changes only the fields it gives; a group with no limits and not paused is gone', async () => {
        const store = await fresh()
        expect(await store.groups?.()).toEqual([])
        expect(await store.write([{ op: 'group', id: 'album-1', limits: { concurrency: 1 } }])).toEqual([{ ok: true }])
        await store.write([{ op: 'group', id: 'doc-7', paused: true }])
        expect(byId(await store.groups?.())).toEqual([
          { id: 'album-1', limits: { concurrency: 1 } },
          { id: 'doc-7', paused: true },
        ])
        await store.write([{ op: 'group', id: 'album-1', paused: true }])
        await store.write([{ op: 'group', id: 'album-1', limits: { concurrency: 2, rateLimit: { max: 3, per: 1000 } } }])
        await store.write([{ op: 'group', id: 'doc-7', paused: false }])
        expect(await store.groups?.()).toEqual([{ id: 'album-1', limits: { concurrency: 2, rateLimit: { max: 3, per: 1000 } }, paused: true }])
        await store.write([{ op: 'group', id: 'album-1', limits: null, paused: false }])
        expect(await store.groups?.()).toEqual([])
      })

      it('ops on one group in one batch see each other; ids of any characters are kept apart', async () => {
        const store = await fresh()
        const ids = ['a', 'a:b', 'a\u0000b', 'émoji 🎞️', 'group:x', ' ']
        const results = await store.write([
          ...ids.map((id, i) => ({ op: 'group' as const, id, limits: { concurrency: i + 1 } })),
          { op: 'group', id: 'a', paused: true },
        ])
        expect(results.every((r) => r.ok)).toBe(true)
        expect(byId(await store.groups?.())).toEqual(
          byId(
            ids.map((id, i): GroupRecord => (id === 'a' ? { id, limits: { concurrency: 1 }, paused: true } : { id, limits: { concurrency: i + 1 } })),
          ),
        )
      })

      it('a group op in an atomic batch that rolls back writes nothing', async () => {
        const store = await fresh()
        await seed(store, [job('a')])
        const [stored] = await store.get(['a'])
        const results = await store.write(
          [
            { op: 'group', id: 'g', paused: true },
            { op: 'put', job: { ...(stored as NonNullable<typeof stored>), rev: 2 }, expect: ['running'] },
          ],
          { atomic: true },
        )
        expect(results[0]).toEqual({ ok: false, reason: 'aborted' })
        expect(await store.groups?.()).toEqual([])
      })

      if (has.fencing)
        it('a fenced group op of a runner that lost its place writes nothing', async () => {
          const store = await fresh()
          await store.write([{ op: 'claim', token: 't1' }])
          await store.write([{ op: 'claim', token: 't2' }])
          expect(await store.write([{ op: 'group', id: 'g', paused: true, fence: 't1' }])).toEqual([{ ok: false, reason: 'fenced' }])
          expect(await store.groups?.()).toEqual([])
        })
    }
  })
}
