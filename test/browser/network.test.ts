/**
 * Offline-aware jobs (`network: true`): the runner's `offline` and `online` events,
 * dispatched on the page here, as the browser dispatches them (`navigator.onLine` cannot
 * be set from a page; Playwright's `setOffline` is in test/e2e/network.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { makeQueue } from './fixtures/queue.js'
import { sleep } from '../helpers/sleep.js'
import { until } from '../helpers/until.js'

const offline = (): boolean => dispatchEvent(new Event('offline'))
const online = (): boolean => dispatchEvent(new Event('online'))

let channels = 0
const channel = (): string => `net-${Date.now()}-${++channels}`
const say = (name: string, word: string): void => {
  const bc = new BroadcastChannel(name)
  bc.postMessage(word)
  bc.close()
}

describe('jobs that need the network', () => {
  it('do not start while offline, and hold up no other job; start once online, their attempt unused', async () => {
    const queue = makeQueue()
    // The worker's tasks are known (a task's `network` comes from them).
    expect(await (await queue.add('echo', 'warm')).result()).toBe('warm')
    offline()
    const net = await queue.add('net', { open: 'task option' })
    const own = await queue.add('echo', 'job option', { network: true })
    try {
      const other = await queue.add('echo', 'other')
      expect(await other.result()).toBe('other')
      await until(
        async () => (await queue.list({ status: 'waiting' })).filter((j) => j.waitingFor === 'network').length === 2,
        'two jobs waiting for the network',
      )
      const waiting = await queue.list({ status: 'waiting' })
      expect(waiting.map((j) => [j.id, j.attempt, j.waitingFor]).sort()).toEqual(
        [
          [net.id, 1, 'network'],
          [own.id, 1, 'network'],
        ].sort(),
      )
      expect(await queue.counts()).toMatchObject({ running: 0, waiting: 2 })
    } finally {
      online()
    }
    const done = await Promise.all([net.wait(), own.wait()])
    expect(done.map((s) => [s.status, s.attempt, s.waitingFor, s.result])).toEqual([
      ['completed', 1, undefined, 'task option'],
      ['completed', 1, undefined, 'job option'],
    ])
  })

  for (const word of ['typeError', 'offline'] as const) {
    it(`an attempt that fails while offline (${word === 'typeError' ? 'a TypeError, as fetch throws' : "ctx.retry({ reason: 'offline' })"}) waits for the network without using up an attempt`, async () => {
      const queue = makeQueue()
      const name = channel()
      let starts = 0
      queue.on('started', () => starts++)
      const retrying: number[] = []
      queue.on('retrying', (_job, info) => retrying.push(info.attempt))
      const net = await queue.add('net', { channel: name, open: 'done' })
      await until(() => starts === 1, 'the first start')
      offline()
      try {
        // The handler's fetch fails as the network goes (said until heard: a word sent before the handler listens is lost).
        await until(() => {
          say(`${name}:1`, word)
          return net.getSnapshot().waitingFor === 'network'
        }, 'the job waiting for the network')
        const waiting = net.getSnapshot()
        expect([waiting.status, waiting.attempt]).toEqual(['waiting', 1])
        expect(await net.errors()).toEqual([])
        // Still offline: it does not start again.
        await sleep(100)
        expect(starts).toBe(1)
      } finally {
        online()
      }
      await until(() => {
        say(`${name}:1`, 'ok')
        return net.getSnapshot().status === 'completed'
      }, 'the job completed')
      expect(starts).toBe(2)
      const done = await net.wait()
      expect([done.status, done.attempt, done.result]).toEqual(['completed', 1, 'done'])
      expect(retrying).toEqual([])
    })
  }

  it('short jobs that need the network are not batched in behind another job while offline', async () => {
    const queue = makeQueue({ concurrency: 1 })
    // Both tasks learned as short (jobs of 2 ms or less share a message when the queue is deep).
    for (let i = 0; i < 4; i++) {
      await Promise.all([(await queue.add('net', { open: 'warm' })).result(), (await queue.add('echo', 'warm')).result()])
    }
    const started: string[] = []
    queue.on('started', (job) => started.push(job.name))
    offline()
    try {
      queue.pause()
      const first = await queue.add('echo', 'first')
      const nets = await queue.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'net' as const, data: { open: `n${i}` } })))
      queue.resume()
      expect(await first.result()).toBe('first')
      await until(() => nets.every((h) => h.getSnapshot().waitingFor === 'network'), 'every network job waiting for the network')
      expect(started).toEqual(['echo'])
    } finally {
      online()
    }
  })

  it('a TypeError while online is an ordinary failure: it uses an attempt', async () => {
    const queue = makeQueue()
    const name = channel()
    let starts = 0
    queue.on('started', () => starts++)
    const net = await queue.add('net', { channel: name, open: 'done' }, { retry: { attempts: 2, delay: 0 } })
    await until(() => {
      say(`${name}:1`, 'typeError')
      return starts === 2
    }, 'the retry')
    await until(() => {
      say(`${name}:2`, 'ok')
      return net.getSnapshot().status === 'completed'
    }, 'the job completed')
    const done = await net.wait()
    expect([done.status, done.attempt]).toEqual(['completed', 2])
    expect((await net.errors()).map((e) => e.name)).toEqual(['TypeError'])
  })

  it('a job waiting for the network can be cancelled; a bad network option is refused, naming it', async () => {
    const queue = makeQueue()
    expect(await (await queue.add('echo', 'warm')).result()).toBe('warm')
    offline()
    try {
      const net = await queue.add('net', { open: 'never' })
      await until(async () => net.getSnapshot().waitingFor === 'network', 'the job waiting for the network')
      expect(await net.cancel()).toBe(true)
      expect((await net.wait()).status).toBe('cancelled')
      await expect(queue.add('echo', 1, { network: 'yes' as unknown as boolean })).rejects.toThrow(/Invalid option "network": expected a boolean/)
    } finally {
      online()
    }
    expect(await (await queue.add('echo', 'after')).result()).toBe('after')
    expect(await queue.counts()).toMatchObject({ waiting: 0, running: 0, cancelled: 1 })
  })
})
