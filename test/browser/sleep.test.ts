/**
 * Durable sleeps (`ctx.sleep`): the run ends, the job is `delayed` with its attempt (no
 * worker held), and it runs again at its time, its stored steps not run again; across a
 * closed and reopened queue too (a closed tab), in every engine.
 */
import { describe, expect, it } from 'vitest'
import { makeQueue, storeWithoutSteps } from './fixtures/queue.js'
import { until } from '../helpers/until.js'

describe('ctx.sleep', () => {
  it('ends the run: the job is delayed, its attempt unused, its worker free for others; at its time it goes on, its steps not run again', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const before = Date.now()
    // Long enough that the other job surely completes first, on a slow machine too.
    const napper = await queue.add('napper', 1500)
    await until(() => napper.status === 'delayed', 'the job asleep')
    expect(napper.attempt).toBe(1)
    expect(napper.runAt).toBeGreaterThanOrEqual(before + 1500)
    // The only worker is free: another job runs while it sleeps.
    expect(await (await queue.add('echo', 'meanwhile')).result()).toBe('meanwhile')
    expect(napper.status).toBe('delayed')
    const done = await napper.wait()
    expect([done.status, done.attempt, done.result]).toEqual(['completed', 1, ['a', 'b']])
    expect(Date.now()).toBeGreaterThanOrEqual(before + 1500)
    expect((await napper.logs()).map((l) => l.message)).toEqual(['ran a', 'ran b'])
    expect(await napper.errors()).toEqual([])
    expect(Object.keys(await napper.steps()).sort()).toEqual(['a', 'b', 'nap'])
  })

  it('over a closed and reopened queue (a closed tab): the sleeping job goes on in the next one', async () => {
    const first = makeQueue({ concurrency: 1 })
    // Long enough to outlast the close and the reopen, on a slow machine too.
    const napper = await first.add('napper', 2000)
    await until(() => napper.status === 'delayed', 'the job asleep')
    await first.close()
    const second = makeQueue({ concurrency: 1, name: first.name })
    const handle = await second.getJob(napper.id)
    expect(handle?.status).toBe('delayed')
    const done = await handle?.wait()
    expect([done?.status, done?.attempt, done?.result]).toEqual(['completed', 1, ['a', 'b']])
    expect((await handle?.logs())?.map((l) => l.message)).toEqual(['ran a', 'ran b'])
  })

  it('with a store that keeps no steps: the job fails, saying why (it would sleep forever)', async () => {
    const queue = makeQueue({ store: storeWithoutSteps() })
    const napper = await queue.add('napper', 50)
    const done = await napper.wait()
    expect(done.status).toBe('failed')
    expect(done.error?.message).toMatch(/ctx\.sleep\(\) and ctx\.waitFor\(\) need a store that keeps durable steps/)
  })
})
