import { describe, expect, it } from 'vitest'
import { JobFailedError, type Queue } from '../../src/index.js'
import { makeQueue } from './fixtures/queue.js'
import type { MiddlewareTasks } from './fixtures/middleware.worker.js'

const middlewareWorker = (): Worker => new Worker(new URL('./fixtures/middleware.worker.ts', import.meta.url), { type: 'module' })

// The queue helper is typed for the shared fixture; this one runs another module.
const makeMiddlewareQueue = (): Queue<MiddlewareTasks> => makeQueue({ worker: middlewareWorker }) as unknown as Queue<MiddlewareTasks>

describe('middleware in a module worker', () => {
  it('replaces the input (with the setup state) and the result', async () => {
    const queue = makeMiddlewareQueue()
    const job = await queue.add('add', { a: 1, b: 2 })
    expect(await job.result()).toEqual({ task: 'add', result: 21 })
  })

  it('passes the input on unchanged when a middleware calls next()', async () => {
    const queue = makeMiddlewareQueue()
    const job = await queue.add('echo', { hello: 'world' })
    expect(await job.result()).toEqual({ task: 'echo', result: { hello: 'world' } })
  })

  it('answers without the handler when a middleware does not call next', async () => {
    const queue = makeMiddlewareQueue()
    const job = await queue.add('cached', 'key-1')
    expect(await job.result()).toEqual({ task: 'cached', result: 'cached:key-1' })
  })

  it('sees the handler error, logs it, and the job still fails with it', async () => {
    const queue = makeMiddlewareQueue()
    const job = await queue.add('fail', 'boom')
    const error = await job.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobFailedError)
    expect((error as Error).cause).toMatchObject({ name: 'RangeError', message: 'boom' })
    const logs = await job.logs()
    expect(logs).toMatchObject([{ level: 'error', message: 'middleware saw an error', meta: { task: 'fail', message: 'boom' } }])
  })
})
