/**
 * Idempotency a caller relies on when it repeats itself (a retry after a
 * network hiccup, a reload): addBulk with ids or keys that exist, chains and
 * groups added again with the same id, also after their finished steps were
 * cleaned; idle() and getJob() around close() and clean().
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { QueueClosedError, createQueue, idbStore } from '../../src/index.js'
import { makeQueue } from '../browser/fixtures/queue.js'
import { delay, makeAdvQueue, rejection, stateAfter, track, uniqueName, within } from './fixtures/queue.js'

/** Ids of jobs whose handler really ran (the adversarial worker's `record` task says so). */
let executed: string[] = []
let execChannel: BroadcastChannel | undefined
beforeEach(() => {
  executed = []
  execChannel = new BroadcastChannel('offthread-adversarial-exec')
  execChannel.onmessage = (event: MessageEvent<{ id: string }>) => executed.push(event.data.id)
})
afterEach(() => execChannel?.close())

describe('adversarial flows, bulk adds, idle and clean', () => {
  it('addBulk with an id that exists returns the existing handle instead of rejecting', async () => {
    const queue = makeQueue({ autostart: false })
    const [first] = await queue.addBulk([{ name: 'echo', data: 1, options: { id: 'x' } }])
    const second = await within(3000, 'the second addBulk', queue.addBulk([{ name: 'echo', data: 1, options: { id: 'x' } }]))
    expect(second[0]?.id).toBe('x')
    expect(second[0]).toBe(first)
    expect((await queue.counts()).waiting).toBe(1)
  })

  it('addBulk mixing an existing id with a new job stores the new one and returns both handles', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('echo', 'old', { id: 'x' })
    const handles = await within(
      3000,
      'addBulk',
      queue.addBulk([
        { name: 'echo', data: 'again', options: { id: 'x' } },
        { name: 'echo', data: 'new', options: { id: 'y' } },
      ]),
    )
    expect(handles.map((h) => h.id)).toEqual(['x', 'y'])
    expect((await queue.counts()).waiting).toBe(2)
    queue.start()
    await expect(handles[0]?.result()).resolves.toBe('old')
    await expect(handles[1]?.result()).resolves.toBe('new')
  })

  it('addBulk with a key that is held returns the holder’s handle instead of rejecting', async () => {
    const queue = makeQueue({ autostart: false })
    const [first] = await queue.addBulk([{ name: 'echo', data: 1, options: { key: 'k' } }])
    const second = await within(3000, 'the second addBulk', queue.addBulk([{ name: 'echo', data: 2, options: { key: 'k' } }]))
    expect(second[0]?.id).toBe(first?.id)
    expect((await queue.counts()).waiting).toBe(1)
  })

  it('chain(steps, { id }) called twice returns the same flow', async () => {
    const queue = makeQueue({ autostart: false })
    const steps = [{ name: 'double', data: 2 }, { name: 'double' }] as const
    const first = await queue.chain(steps, { id: 'f' })
    const again = await within(3000, 'the second chain', queue.chain(steps, { id: 'f' }))
    expect(again.id).toBe('f')
    expect(again.jobs).toEqual(first.jobs)
    queue.start()
    await expect(within(3000, 'the flow', again.result())).resolves.toBe(8)
  })

  it('group(jobs, { id }) called twice while it runs returns the same flow, runs each member once', async () => {
    const queue = makeAdvQueue()
    const jobs = [
      { name: 'record', data: 'a' },
      { name: 'record', data: 'b' },
    ] as const
    const first = await queue.group(jobs, { id: 'g' })
    const again = await within(3000, 'the second group', queue.group(jobs, { id: 'g' }))
    expect(again.jobs).toEqual(first.jobs)
    await expect(within(3000, 'the group', again.result())).resolves.toEqual(['a', 'b'])
    await delay(50)
    expect(executed.sort()).toEqual([...first.jobs].sort())
  })

  it('chain again after its first step completed and was cleaned: resolves, does not run the first step again', async () => {
    const queue = makeAdvQueue()
    const steps = [
      { name: 'record', data: 'first' },
      { name: 'sleep', data: 400 },
    ] as const
    const flow = await queue.chain(steps, { id: 'f' })
    const firstStep = flow.jobs[0] as string
    await expect.poll(async () => (await queue.getJob(firstStep))?.status, { timeout: 3000 }).toBe('completed')
    expect(await queue.clean({ status: 'completed' })).toBeGreaterThanOrEqual(1)
    const again = await within(3000, 'chain() again', queue.chain(steps, { id: 'f' }))
    expect(again.jobs).toEqual(flow.jobs)
    await expect(within(3000, 'the flow', again.result())).resolves.toBe(400)
    await delay(100)
    expect(
      executed.filter((id) => id === firstStep),
      'runs of the first step',
    ).toHaveLength(1)
  })

  it('a follower’s idle() pending on a waiting job settles (QueueClosedError) when the queue closes', async () => {
    const name = uniqueName('idle')
    const follower = track(createQueue({ name, store: idbStore() }))
    await follower.add('echo', 'never runs here')
    const idle = follower.idle()
    expect(await stateAfter(idle, 100)).toBe('pending')
    await follower.close({ timeout: 0 })
    const error = await within(1500, 'idle() after close()', rejection(idle))
    expect(error).toBeInstanceOf(QueueClosedError)
  })

  it('a runner’s idle() pending on a running job settles (QueueClosedError) when the queue closes', async () => {
    const queue = makeQueue()
    await queue.add('sleep', 2000)
    const idle = queue.idle()
    expect(await stateAfter(idle, 100)).toBe('pending')
    await queue.close({ timeout: 0 })
    await expect(within(2000, 'idle() after close()', rejection(idle))).resolves.toBeInstanceOf(QueueClosedError)
  })

  it('getJob(id) after clean() deleted that job returns undefined, even while its handle is held', async () => {
    const queue = makeQueue()
    const job = await queue.add('echo', 'x')
    await job.result()
    expect(await queue.clean({ status: 'completed' })).toBe(1)
    expect(await queue.getJob(job.id)).toBeUndefined()
    // The handle, still held, keeps the last state it saw.
    expect(job.getSnapshot().status).toBe('completed')
  })

  it('remove(id) of a held handle: getJob returns undefined and a removed event fires', async () => {
    const queue = makeQueue({ autostart: false })
    // The contract's `remove` and `removed` event (API.md, "Queue methods" and "Queue events").
    const contract = queue as unknown as {
      remove(id: string): Promise<boolean>
      on(event: 'removed', listener: (ids: unknown) => void): () => void
    }
    const removed: unknown[] = []
    contract.on('removed', (ids) => removed.push(ids))
    const job = await queue.add('echo', 'x')
    expect(await contract.remove(job.id)).toBe(true)
    expect(await queue.getJob(job.id)).toBeUndefined()
    expect(JSON.stringify(removed)).toContain(job.id)
    expect(await contract.remove(job.id)).toBe(false)
  })
})
