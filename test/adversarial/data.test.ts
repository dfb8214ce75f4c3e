/**
 * Job data an attacker or a careless caller can hand to `add`: values that
 * cannot be structured-cloned, or can be posted but not stored. The contract:
 * `add` rejects with a JobDataError naming the task (and the path), nothing of
 * that job is stored, and the other callers of the same turn are not harmed.
 */
import { describe, expect, it } from 'vitest'
import { JobDataError, type JobHandle } from '../../src/index.js'
import { makeQueue } from '../browser/fixtures/queue.js'
import { rejection, within } from './fixtures/queue.js'

const wasmModule = (): WebAssembly.Module => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))

const revokedProxy = (): object => {
  const p = Proxy.revocable({}, {})
  p.revoke()
  return p.proxy
}

const BAD_DATA: Array<[string, () => unknown, RegExp | undefined]> = [
  ['a function', () => ({ x: () => 1 }), /data\.x/],
  ['a symbol', () => ({ x: Symbol('s') }), /data\.x/],
  ['a revoked Proxy', () => ({ x: revokedProxy() }), undefined],
  // Small and plain to look at (kept in the job's record), yet no engine clones a Proxy.
  ['a live Proxy', () => ({ x: new Proxy({ a: 1 }, {}) }), undefined],
  ['a DOM node', () => ({ x: document.createElement('div') }), /data\.x/],
  ['a WebAssembly.Module (postable, not storable)', () => ({ x: wasmModule() }), undefined],
]

describe('adversarial job data', () => {
  for (const [label, make, path] of BAD_DATA) {
    it(`${label} as data: add rejects JobDataError naming the task, stores nothing`, async () => {
      const queue = makeQueue({ autostart: false })
      const before = await queue.counts()
      const error = await rejection(queue.add('echo', make()))
      expect(error.name).toBe('JobDataError')
      expect(error).toBeInstanceOf(JobDataError)
      expect(error.message).toContain('"echo"')
      if (path) expect(error.message).toMatch(path)
      expect(await queue.counts()).toEqual(before)
      expect(await queue.list({ status: ['waiting', 'delayed', 'blocked', 'running'] })).toHaveLength(0)
    })

    it(`${label} as data: 20 valid adds in the same turn all succeed and complete`, async () => {
      const queue = makeQueue()
      const good = Array.from({ length: 20 }, (_, i) => queue.add('echo', { i }))
      const bad = queue.add('echo', make())
      const more = Array.from({ length: 5 }, (_, i) => queue.add('double', i))
      const settled = await within(5000, 'the adds of the same turn', Promise.allSettled([...good, bad, ...more]))
      const goods = [...settled.slice(0, 20), ...settled.slice(21)]
      const reasons = goods.filter((s) => s.status === 'rejected').map((s) => String(s.reason))
      expect(reasons, 'valid adds of the same turn must not be rejected').toEqual([])
      const handles = goods.map((s) => (s as PromiseFulfilledResult<JobHandle>).value)
      const results = await within(5000, 'the results of the valid jobs', Promise.all(handles.map((h) => h.result())))
      expect(results.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })))
      expect(results.slice(20)).toEqual([0, 2, 4, 6, 8])
      const counts = await queue.counts()
      expect(counts).toMatchObject({ completed: 25, running: 0, waiting: 0, failed: 0 })
      const badOutcome = settled[20]
      expect(badOutcome?.status).toBe('rejected')
      expect((badOutcome as PromiseRejectedResult).reason).toBeInstanceOf(JobDataError)
    })
  }

  it('a debounced add with uncloneable data rejects only its own caller; other adds around it (debounced or not) succeed', async () => {
    const queue = makeQueue()
    const queueErrors: Error[] = []
    queue.on('error', (e) => queueErrors.push(e))
    const goods: Array<Promise<JobHandle>> = []
    const expected: unknown[] = []
    const bads: Array<[string, Promise<unknown>]> = []
    const holders: Array<JobHandle> = []
    const holderFailures: string[] = []
    /** Handled at once (checked at the end), so a rejection mid-test is not reported as unhandled. */
    const handled = <T>(promise: Promise<T>): Promise<T> => (promise.catch(() => undefined), promise)
    // A few rounds: whether a bad write shares a transaction with good ones (group commit) depends on timing.
    for (let round = 0; round < 4; round++) {
      // A first debounced add holds the key, so the bad one takes the "update the waiting job" path.
      const holder = await queue.add('echo', `holder ${round}`, { debounce: { key: `d${round}`, delay: 150 } }).catch((e: unknown) => e)
      if (holder instanceof Error) holderFailures.push(`holder ${round}: ${String(holder)}`)
      else holders.push(holder as JobHandle)
      goods.push(handled(queue.add('echo', round)))
      expected.push(round)
      bads.push([
        `update of a waiting debounced job (round ${round})`,
        queue.add('echo', { fn: () => 1 }, { debounce: { key: `d${round}`, delay: 150 } }),
      ])
      // Good debounced adds of the same turn take the same path, so they reach the store with it.
      for (let k = 0; k < 5; k++) {
        goods.push(handled(queue.add('echo', `debounced ${round}.${k}`, { debounce: { key: `e${round}.${k}`, delay: 20 } })))
        expected.push(`debounced ${round}.${k}`)
      }
      bads.push([`new debounced job (round ${round})`, handled(queue.add('echo', { fn: () => 2 }, { debounce: { key: `f${round}`, delay: 50 } }))])
      for (const [, bad] of bads) void handled(bad)
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
    const settled = await within(5000, 'the good adds', Promise.allSettled(goods))
    expect(
      [...holderFailures, ...settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason))],
      'valid adds around a bad debounced add must not be rejected',
    ).toEqual([])
    const results = await within(5000, 'results', Promise.all(settled.map((s) => (s as PromiseFulfilledResult<JobHandle>).value.result())))
    expect(results).toEqual(expected)
    // The holders kept their own (cloneable) data: the bad updates did not half-write them.
    await expect(within(3000, 'the debounced holders', Promise.all(holders.map((h) => h.result())))).resolves.toEqual(
      [0, 1, 2, 3].map((round) => `holder ${round}`),
    )
    // Each bad debounced add rejects its own caller with a JobDataError naming the task.
    for (const [label, outcome] of bads) {
      const reason = await rejection(outcome)
      expect(reason.name, label).toBe('JobDataError')
      expect(reason.message, label).toContain('"echo"')
    }
    // A caller's bad data is that caller's problem, not the queue's: no failed commits of its own.
    expect(queueErrors.map(String), 'queue error events').toEqual([])
  })

  it('a debounced add whose new data will not clone (a live Proxy) rejects JobDataError; the waiting job keeps its data', async () => {
    const queue = makeQueue({ autostart: false })
    const large = { text: 'z'.repeat(2000) }
    const debounce = { key: 'k', delay: 60_000 }
    const first = await queue.add('echo', large, { debounce })
    const error = await rejection(queue.add('echo', { x: new Proxy({ a: 1 }, {}) }, { debounce }))
    expect(error).toBeInstanceOf(JobDataError)
    await expect(first.data()).resolves.toEqual(large)
    // A fresh read, as after a reload.
    const reader = makeQueue({ name: queue.name, worker: undefined })
    await expect((await reader.getJob(first.id))?.data()).resolves.toEqual(large)
  })

  it('addBulk with a revoked Proxy in one entry rejects JobDataError, stores none, and spares a parallel add', async () => {
    const queue = makeQueue({ autostart: false })
    const bulk = queue.addBulk([
      { name: 'echo', data: 1 },
      { name: 'echo', data: { x: revokedProxy() } },
    ] as never)
    const single = queue.add('echo', 'alone')
    const [b, s] = await Promise.allSettled([bulk, single])
    expect(b.status).toBe('rejected')
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(JobDataError)
    expect(s.status).toBe('fulfilled')
    expect((await queue.counts()).waiting).toBe(1)
  })
})
