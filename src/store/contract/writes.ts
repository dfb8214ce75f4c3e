/**
 * The Store contract, writes: `write([])`, inserts (ids, keys, values that cannot be stored),
 * atomic batches, and puts (conditions, data replaced).
 */
import type { JobRecord, WriteOp } from '../store.js'
import { insert, job, log, type ContractKit } from './kit.js'

/** Registers the cases of inserts, atomic batches and puts. */
export function writeCases(kit: ContractKit): void {
  const { describe, it, expect, fresh, seed, update, complete } = kit

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
      const [other] = await store.write([insert(job('c', { key: 'other' }))])
      expect(other?.ok && typeof other.seq).toBe('number')
    })

    it('a key taken earlier in the same batch gives "key"', async () => {
      const store = await fresh()
      const results = await store.write([insert(job('a', { key: 'k' })), insert(job('b', { key: 'k' }))])
      expect(results[0]).toMatchObject({ ok: true })
      expect(results[1]).toMatchObject({ ok: false, reason: 'key', job: { id: 'a' } })
    })

    for (const status of ['completed', 'failed', 'cancelled'] as const)
      it(`a key is free again once its holder is put in final status ${status}`, async () => {
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
      expect(await store.write(values.map(([id, data]): WriteOp => ({ op: 'insert', job: job(id), data })))).toMatchObject(
        values.map(() => ({ ok: true })),
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
      for (const j of await store.list({})) expect(Object.keys(j)).not.toContain('data')
      for (const j of await store.get(values.map(([id]) => id))) expect(Object.keys(j ?? {})).not.toContain('input')
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
}
