import { describe, expect, it } from 'vitest'
import { Committer } from '../../src/store/committer.js'
import { job } from '../../src/store/contract/kit.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { JobRecord, Store, WriteOp } from '../../src/store/store.js'
import { withWrite } from '../helpers/store-write.js'

interface WriteCall {
  ops: WriteOp[]
  atomic: boolean
}

/** A memoryStore whose `write` calls are recorded (ops deep-copied at call time), and can be made to fail. */
async function spyStore(): Promise<{ store: Store; calls: WriteCall[]; failNext: (error: Error) => void }> {
  const inner = memoryStore()
  await inner.open('committer')
  const calls: WriteCall[] = []
  let failure: Error | undefined
  const store = withWrite(inner, (ops, options) => {
    let copied: WriteOp[]
    try {
      copied = structuredClone([...ops])
    } catch {
      copied = [...ops]
    }
    calls.push({ ops: copied, atomic: options?.atomic ?? false })
    if (failure) {
      const error = failure
      failure = undefined
      return Promise.reject(error)
    }
    return inner.write(ops, options)
  })
  return { store, calls, failNext: (error) => (failure = error) }
}

const insert = (id: string, data: unknown = null): WriteOp => ({ op: 'insert', job: job(id), data })

describe('Committer', () => {
  it('writes queued in the same turn go to the store in one write call', async () => {
    const { store, calls } = await spyStore()
    const committer = new Committer(store)
    const all = await Promise.all([
      committer.write([insert('a')]),
      committer.write([insert('b'), insert('c')]),
      committer.write([{ op: 'log', id: 'a', entries: [{ level: 'info', message: 'hi', timestamp: 1 }] }]),
    ])
    expect(calls).toHaveLength(1)
    expect(calls[0]?.atomic).toBe(false)
    expect(calls[0]?.ops.map((op) => (op.op === 'insert' ? op.job.id : op.op))).toEqual(['a', 'b', 'c', 'log'])
    expect(all.flat().every((r) => r.ok)).toBe(true)
    expect((await store.get(['a', 'b', 'c'])).map((j) => j?.id)).toEqual(['a', 'b', 'c'])
  })

  it("callers of one turn share transactions of at most 200 ops; a caller's own ops are never split", async () => {
    const { store, calls } = await spyStore()
    const committer = new Committer(store)
    const big = Array.from({ length: 1500 }, (_, i) => insert(`big-${i}`))
    const writes = [
      ...Array.from({ length: 500 }, (_, i) => committer.write([insert(`one-${i}`)])),
      committer.write(big),
      committer.write([insert('after')]),
    ]
    const results = await Promise.all(writes)
    expect(results.flat().every((r) => r.ok)).toBe(true)
    expect(calls.map((call) => call.ops.length)).toEqual([200, 200, 100, 1500, 1])
    expect((await store.counts()).waiting).toBe(2001)
  })

  it('each caller gets its own slice of the results, in order', async () => {
    const { store } = await spyStore()
    const committer = new Committer(store)
    await committer.write([insert('taken')])
    const [first, second, third] = await Promise.all([
      committer.write([insert('x')]),
      committer.write([insert('taken'), insert('y')]),
      committer.write([insert('z')]),
    ])
    expect(first).toEqual([{ ok: true, seq: 2 }])
    expect(second).toHaveLength(2)
    expect(second?.[0]).toMatchObject({ ok: false, reason: 'exists', job: { id: 'taken' } })
    expect(second?.[1]).toEqual({ ok: true, seq: 3 })
    expect(third).toEqual([{ ok: true, seq: 4 }])
  })

  it('writes queued while a transaction is in flight go together in the next one', async () => {
    const { store, calls } = await spyStore()
    const committer = new Committer(store)
    const first = committer.write([insert('a')])
    // let the first flush start
    await Promise.resolve()
    await Promise.resolve()
    const later = [committer.write([insert('b')]), committer.write([insert('c')])]
    await Promise.all([first, ...later])
    expect(calls.map((c) => c.ops.length)).toEqual([1, 2])
  })

  it('an atomic write gets a transaction of its own', async () => {
    const { store, calls } = await spyStore()
    const committer = new Committer(store)
    const results = await Promise.all([
      committer.write([insert('a')]),
      committer.write([insert('b'), insert('c')], { atomic: true }),
      committer.write([insert('d')]),
      committer.write([insert('e')]),
    ])
    expect(calls.map((c) => ({ atomic: c.atomic, ids: c.ops.map((op) => (op as { job: { id: string } }).job.id) }))).toEqual([
      { atomic: false, ids: ['a'] },
      { atomic: true, ids: ['b', 'c'] },
      { atomic: false, ids: ['d', 'e'] },
    ])
    expect(results.map((r) => r.length)).toEqual([1, 2, 1, 1])
  })

  it('an atomic write that fails does not abort the other callers of that turn', async () => {
    const { store } = await spyStore()
    const committer = new Committer(store)
    await committer.write([insert('dup')])
    const bad: WriteOp = { op: 'insert', job: job('c'), data: () => 'a function' }
    const [plain, atomic] = await Promise.all([committer.write([insert('a')]), committer.write([insert('b'), bad], { atomic: true })])
    expect(plain).toEqual([{ ok: true, seq: 2 }])
    expect(atomic?.[0]).toEqual({ ok: false, reason: 'aborted' })
    expect(atomic?.[1]).toMatchObject({ ok: false, reason: 'uncloneable' })
    expect((await store.get(['a', 'b', 'c'])).map((j) => j?.id)).toEqual(['a', undefined, undefined])
  })

  it('a store failure rejects only the caller whose write causes it; the others of that batch land', async () => {
    const inner = memoryStore()
    await inner.open('committer')
    const calls: number[] = []
    // A store that refuses any transaction holding the id "over-quota" (as a value too large would).
    const write = (ops: readonly WriteOp[], options?: { atomic?: boolean }): ReturnType<Store['write']> => {
      calls.push(ops.length)
      if (ops.some((op) => op.op === 'insert' && op.job.id === 'over-quota')) {
        return Promise.reject(new DOMException('over quota', 'QuotaExceededError'))
      }
      return inner.write(ops, options)
    }
    const committer = new Committer(withWrite(inner, write))
    const ids = ['a', 'b', 'over-quota', 'c', 'd', 'e']
    const settled = await Promise.allSettled(ids.map((id) => committer.write([insert(id)])))
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'])
    expect(((settled[2] as PromiseRejectedResult).reason as DOMException).name).toBe('QuotaExceededError')
    expect((await inner.get(ids)).map((j) => j?.id)).toEqual(['a', 'b', undefined, 'c', 'd', 'e'])
    // One shared attempt, then halves: far fewer transactions than one per caller would be.
    expect(calls[0]).toBe(6)
    expect(await committer.write([insert('f')])).toEqual([{ ok: true, seq: 6 }])
  })

  it('a store failure of a single caller rejects it, and the next batch still runs', async () => {
    const { store, calls, failNext } = await spyStore()
    const committer = new Committer(store)
    const failure = new Error('disk full')
    failNext(failure)
    const settled = await Promise.allSettled([committer.write([insert('a')])])
    expect(calls).toHaveLength(1)
    expect(settled).toEqual([{ status: 'rejected', reason: failure }])
    expect(await committer.write([insert('c')])).toEqual([{ ok: true, seq: 1 }])
  })

  it('put records are copied at enqueue time: a later mutation is not written', async () => {
    const { store, calls } = await spyStore()
    const committer = new Committer(store)
    await committer.write([insert('a')])
    const [stored] = await store.get(['a'])
    const job: JobRecord = { ...(stored as JobRecord), status: 'running', rev: 2 }
    const pending = committer.write([{ op: 'put', job }])
    job.status = 'failed'
    job.rev = 99
    await pending
    expect(calls[1]?.ops[0]).toMatchObject({ op: 'put', job: { status: 'running', rev: 2 } })
    expect((await store.get(['a']))[0]).toMatchObject({ status: 'running', rev: 2 })
  })

  it('insert records are copied at enqueue time too', async () => {
    const { store } = await spyStore()
    const committer = new Committer(store)
    const inserted = job('a')
    const pending = committer.write([{ op: 'insert', job: inserted, data: 1 }])
    inserted.name = 'changed'
    await pending
    expect((await store.get(['a']))[0]?.name).toBe('task')
  })

  it('settled() resolves once every queued write has settled', async () => {
    const { store } = await spyStore()
    const committer = new Committer(store)
    await expect(committer.settled()).resolves.toBeUndefined()
    const done: string[] = []
    void committer.write([insert('a')]).then(() => done.push('a'))
    void committer.write([insert('b')], { atomic: true }).then(() => done.push('b'))
    await committer.settled()
    expect(done.sort()).toEqual(['a', 'b'])
  })
})
