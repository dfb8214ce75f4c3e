/**
 * Batch tasks (task option `batch: { size, wait }`): many jobs, one call of the handler,
 * each job with its own handle, result, attempt, events and retries. The fixture task is
 * `batched` in ./fixtures/tasks.worker.ts: it says each call's job ids on a BroadcastChannel.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import { makeQueue } from './fixtures/queue.js'
import type { BatchInput } from './fixtures/tasks.worker.js'
import { until } from '../helpers/until.js'

let channels = 0
const channel = (what: string): string => `batch-${what}-${Date.now()}-${++channels}`

/** A channel that hears every call of the handler (its jobs' ids and attempts), in order, and each call whose signal aborted. */
function listen(): { name: string; calls: Array<{ ids: string[]; attempts: number[] }>; aborted: string[][]; close(): void } {
  const name = channel('calls')
  const calls: Array<{ ids: string[]; attempts: number[] }> = []
  const aborted: string[][] = []
  const bc = new BroadcastChannel(name)
  bc.onmessage = (event: MessageEvent) => {
    const data = event.data as { ids: string[]; attempts: number[] } | { aborted: string[] }
    if ('aborted' in data) aborted.push(data.aborted)
    else calls.push(data)
  }
  return { name, calls, aborted, close: () => bc.close() }
}

const say = (name: string): void => {
  const bc = new BroadcastChannel(name)
  bc.postMessage('go')
  bc.close()
}

describe('batch tasks', () => {
  it('a batch of 50 with items 3 and 17 failing: those two retry alone, 48 complete, one handler call per batch', async () => {
    const queue = makeQueue()
    const heard = listen()
    try {
      const retrying: string[] = []
      queue.on('retrying', (job) => retrying.push(job.id))
      const inputs: BatchInput[] = Array.from({ length: 50 }, (_, i) => ({ n: i, calls: heard.name, fail: i === 3 || i === 17 }))
      const handles = await queue.addBulk(inputs.map((data) => ({ name: 'batched' as const, data })))
      const done = await Promise.all(handles.map((h) => h.wait()))
      expect(done.map((s) => s.status)).toEqual(done.map(() => 'completed'))
      expect(done.map((s) => s.result)).toEqual(inputs.map((input) => input.n * 2))
      const ids = handles.map((h) => h.id)
      const failing = [ids[3], ids[17]]
      expect(done.filter((s) => s.attempt === 2).map((s) => s.id)).toEqual(failing)
      expect(retrying.sort()).toEqual([...failing].sort())
      for (const i of [3, 17]) expect((await handles[i]!.errors()).map((e) => [e.attempt, e.message])).toEqual([[1, `item ${i} failed`]])
      expect(await handles[0]!.errors()).toEqual([])
      // One call per batch: the first holds all 50 jobs; the two that failed ran again, and no other job did.
      await until(() => heard.calls.flatMap((c) => c.ids).length === 52, 'every call heard')
      expect(heard.calls[0]?.ids).toEqual(ids)
      expect(heard.calls[0]?.attempts).toEqual(ids.map(() => 1))
      expect(
        heard.calls
          .slice(1)
          .flatMap((c) => c.ids)
          .sort(),
      ).toEqual([...failing].sort())
      expect(heard.calls.slice(1).flatMap((c) => c.attempts)).toEqual([2, 2])
      // Each job's snapshot says how many jobs its run was started with.
      expect(done[0]?.batch).toBe(50)
      expect(done[3]?.batch).toBe([...heard.calls].reverse().find((c) => c.ids.includes(ids[3] as string))?.ids.length)
    } finally {
      heard.close()
    }
  })

  it('runs on memoryStore too: one call for the batch, each job its own result and snapshot', async () => {
    const queue = makeQueue({ store: memoryStore() })
    const heard = listen()
    try {
      const handles = await queue.addBulk([1, 2, 3, 4, 5].map((n) => ({ name: 'batched' as const, data: { n, calls: heard.name, fail: n === 2 } })))
      const done = await Promise.all(handles.map((h) => h.wait()))
      expect(done.map((s) => [s.status, s.result, s.attempt])).toEqual([
        ['completed', 2, 1],
        ['completed', 4, 2],
        ['completed', 6, 1],
        ['completed', 8, 1],
        ['completed', 10, 1],
      ])
      await until(() => heard.calls.length === 2, 'two calls')
      expect(heard.calls.map((c) => c.ids)).toEqual([handles.map((h) => h.id), [handles[1]?.id]])
      expect(done.map((s) => s.batch)).toEqual([5, 1, 5, 5, 5])
    } finally {
      heard.close()
    }
  })

  it('progress and logs name the job they are about; ctx.log goes to every job of the batch', async () => {
    const queue = makeQueue()
    const handles = await queue.addBulk([0, 1, 2].map((n) => ({ name: 'batched' as const, data: { n } })))
    await Promise.all(handles.map((h) => h.result()))
    for (const [i, handle] of handles.entries()) {
      expect((await handle.logs()).map((entry) => entry.message)).toEqual(['call', `item ${i}`])
      expect(handle.getSnapshot().progress).toBe(i)
    }
  })

  it('a thrown error retries the jobs of the batch, each by its own policy', async () => {
    const queue = makeQueue()
    const heard = listen()
    try {
      const calls = heard.name
      const once = await queue.add('batched', { n: 1, calls, throws: true }, { retry: { attempts: 1 } })
      const twice = await queue.add('batched', { n: 2, calls }, { retry: { attempts: 2, delay: 0 } })
      const [a, b] = await Promise.all([once.wait(), twice.wait()])
      expect([a.status, a.attempt, a.error?.message]).toEqual(['failed', 1, 'batch thrown for 1'])
      expect([b.status, b.attempt, b.result]).toEqual(['completed', 2, 4])
      expect((await twice.errors()).map((e) => e.message)).toEqual(['batch thrown for 1'])
      await until(() => heard.calls.length === 2, 'two calls')
      expect(heard.calls.map((c) => c.ids)).toEqual([[once.id, twice.id], [twice.id]])
    } finally {
      heard.close()
    }
  })

  it('a result that is not one per input fails every job of the batch, saying so', async () => {
    const queue = makeQueue()
    const short = await queue.addBulk([
      { name: 'batched', data: { n: 1, shape: 'short' } },
      { name: 'batched', data: { n: 2 } },
    ])
    for (const snapshot of await Promise.all(short.map((h) => h.wait()))) {
      expect(snapshot.status).toBe('failed')
      expect(snapshot.error?.name).toBe('JobDataError')
      expect(snapshot.error?.message).toContain('must return an array of 2 results, one per input in order; it returned an array of 1')
    }
    const object = await queue.add('batched', { n: 3, shape: 'object' })
    const failed = await object.wait()
    expect(failed.error?.message).toContain('must return an array of 1 results, one per input in order; it returned object')
  })

  it('ctx.step, ctx.sleep and ctx.waitFor reject in a batch task, saying why', async () => {
    const queue = makeQueue()
    const [step, sleep, waitFor] = await queue.addBulk([
      { name: 'batched', data: { n: 1, step: 'step' } },
      { name: 'batched', data: { n: 2, step: 'sleep' } },
      { name: 'batched', data: { n: 3, step: 'waitFor' } },
    ])
    expect(await step.result()).toMatch(/^OffthreadError: ctx\.step\(\) cannot be used in batch task "batched"/)
    expect(await sleep.result()).toMatch(/^OffthreadError: ctx\.sleep\(\) cannot be used in batch task "batched"/)
    expect(await waitFor.result()).toMatch(/^OffthreadError: ctx\.waitFor\(\) cannot be used in batch task "batched"/)
  })

  it('cancelling one job of a running batch ends it cancelled at once; the others complete', async () => {
    const queue = makeQueue()
    const gate = channel('gate')
    const heard = listen()
    try {
      const calls = heard.name
      const [first, second, third] = await queue.addBulk([
        { name: 'batched', data: { n: 1, calls, gate } },
        { name: 'batched', data: { n: 2 } },
        { name: 'batched', data: { n: 3 } },
      ])
      await until(() => heard.calls.length === 1, 'the call')
      expect(await queue.cancel(second.id)).toBe(true)
      // Settled while the call still waits at its gate.
      expect(second.getSnapshot().status).toBe('cancelled')
      expect(first.getSnapshot().status).toBe('running')
      await until(() => {
        say(gate)
        return first.getSnapshot().status === 'completed'
      }, 'the batch done')
      expect(await third.result()).toBe(6)
      expect(await first.result()).toBe(2)
      expect(second.getSnapshot().status).toBe('cancelled')
      expect(heard.calls.length).toBe(1)
    } finally {
      heard.close()
    }
  })

  it("a job's timeout in a running batch ends that job alone; the others complete", async () => {
    const queue = makeQueue()
    const gate = channel('gate')
    const heard = listen()
    try {
      const [late, other] = await queue.addBulk([
        { name: 'batched', data: { n: 1, calls: heard.name, gate }, options: { timeout: 200, retry: { attempts: 1 } } },
        { name: 'batched', data: { n: 2 } },
      ])
      const failed = await late.wait()
      expect([failed.status, failed.error?.name]).toEqual(['failed', 'JobTimeoutError'])
      expect(other.getSnapshot().status).toBe('running')
      await until(() => {
        say(gate)
        return other.getSnapshot().status === 'completed'
      }, 'the other job done')
      expect(await other.result()).toBe(4)
      expect(heard.calls.length).toBe(1)
      expect(heard.aborted).toEqual([])
    } finally {
      heard.close()
    }
  })

  it('cancelling every job of a running batch aborts ctx.signal: the handler stops, both end cancelled', async () => {
    const queue = makeQueue()
    const heard = listen()
    try {
      const [first, second] = await queue.addBulk([
        { name: 'batched', data: { n: 1, calls: heard.name, gate: channel('never') } },
        { name: 'batched', data: { n: 2 } },
      ])
      await until(() => heard.calls.length === 1, 'the call')
      expect(await queue.cancel(first.id)).toBe(true)
      expect(heard.aborted).toEqual([])
      expect(await queue.cancel(second.id)).toBe(true)
      await until(() => heard.aborted.length === 1, 'the call told its signal aborted')
      expect(heard.aborted[0]).toEqual([first.id, second.id])
      expect([first.getSnapshot().status, second.getSnapshot().status]).toEqual(['cancelled', 'cancelled'])
    } finally {
      heard.close()
    }
  })
})
