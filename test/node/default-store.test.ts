/**
 * Without IndexedDB (Node here, as in Deno and Bun) and without a `store` option, a
 * queue keeps its jobs in a memoryStore, imported when the queue first uses it.
 */
import { describe, expect, it } from 'vitest'
import { createQueue } from '../../src/index.js'

describe('the default store without IndexedDB', () => {
  it('is a memoryStore made on first use: jobs are added, read, listed and counted', async () => {
    expect(typeof indexedDB).toBe('undefined')
    const queue = createQueue({ name: `default-store-${Date.now()}`, autostart: false })
    const job = await queue.add('anything' as never, { n: 1 })
    expect(job.status).toBe('waiting')
    expect((await queue.list({ data: true })).map((j) => [j.id, j.data])).toEqual([[job.id, { n: 1 }]])
    expect(await queue.counts()).toMatchObject({ waiting: 1 })
    const again = createQueue({ name: `default-store-other-${Date.now()}`, autostart: false })
    // Each queue has a store of its own.
    expect(await again.counts()).toMatchObject({ waiting: 0 })
    await again.close()
    await queue.close()
  })
})
