import { describe, expect, it } from 'vitest'
import { makeQueue } from './fixtures/queue.js'
import { sleep } from '../helpers/sleep.js'

// Many short jobs: the dispatcher sends several to a worker in one message,
// and holds only a window of the waiting jobs in memory.
describe('dispatching many short jobs', () => {
  it('1,500 short jobs all complete, each with its own result', async () => {
    const queue = makeQueue({ retention: { completed: false } })
    const handles = await queue.addBulk(Array.from({ length: 1500 }, (_, i) => ({ name: 'double' as const, data: i })))
    const results = await Promise.all(handles.map((h) => h.result()))
    expect(results).toEqual(Array.from({ length: 1500 }, (_, i) => i * 2))
    expect(await queue.counts()).toMatchObject({ completed: 1500, running: 0, waiting: 0 })
  })

  it('runs by priority, then insertion order, across more jobs than the in-memory window', async () => {
    const queue = makeQueue({ concurrency: 1, autostart: false, retention: { completed: false } })
    // 1,300: past the 1,000-job window (2,500 took 14 s in WebKit)
    const priorities = Array.from({ length: 1300 }, (_, i) => (i * 7919) % 5)
    await queue.addBulk(priorities.map((priority, i) => ({ name: 'echo' as const, data: i, options: { priority } })))
    const order: number[] = []
    queue.on('started', (job) => order.push(job.data as number))
    queue.start()
    await queue.idle()
    const expected = priorities.map((priority, i) => ({ priority, i })).sort((a, b) => b.priority - a.priority || a.i - b.i)
    expect(order).toEqual(expected.map((e) => e.i))
  })

  it('a job that kills its worker inside a batch fails alone; the others of its batch complete unharmed', async () => {
    const queue = makeQueue({ concurrency: 1, retention: { completed: false } })
    // Let the queue learn that the task is short, so that it batches it.
    await Promise.all((await queue.addBulk([1, 2, 3, 4].map((n) => ({ name: 'maybeCrash' as const, data: n })))).map((h) => h.result()))
    const data: Array<number | 'crash'> = Array.from({ length: 200 }, (_, i) => (i === 100 ? 'crash' : i))
    const handles = await queue.addBulk(data.map((d) => ({ name: 'maybeCrash' as const, data: d })))
    const outcomes = await Promise.all(handles.map((h) => h.wait()))
    const culprit = outcomes[100]
    expect(culprit?.status).toBe('failed')
    expect(culprit?.error?.name).toBe('WorkerError')
    const others = outcomes.filter((_, i) => i !== 100)
    expect(others.every((o) => o.status === 'completed' && o.attempt === 1)).toBe(true)
    expect(others.map((o) => o.result)).toEqual(data.filter((d) => d !== 'crash'))
    const innocentErrors = await Promise.all(handles.filter((_, i) => i !== 100).map((h) => h.errors()))
    expect(innocentErrors.flat()).toEqual([])
  })
})

describe('a short job queued behind a busy worker’s job', () => {
  it('is committed and sent while the job before it runs, and the outcome of that job is not held for it', async () => {
    const queue = makeQueue({ concurrency: 1, retention: { completed: false } })
    // Let the queue learn that the task is short (under 50 ms on average); two jobs are too few to share a message.
    for (let i = 0; i < 3; i++) await (await queue.add('gate', { open: 'warm' })).result()
    const events: string[] = []
    queue.on('started', (job) => events.push(`started ${String((job.data as { open: string }).open)}`))
    queue.on('completed', (job) => events.push(`completed ${String((job.data as { open: string }).open)}`))
    const key = `gate-${Date.now()}-${Math.random()}`
    const [first, second] = await Promise.all([
      queue.add('gate', { channel: `${key}-1`, open: 'one' }),
      queue.add('gate', { channel: `${key}-2`, open: 'two' }),
    ])
    const until = async (event: string): Promise<void> => {
      for (let i = 0; i < 500 && !events.includes(event); i++) await sleep(10)
      expect(events).toContain(event)
    }
    // One worker, and both started: the second waits on the worker behind the first.
    await until('started two')
    expect(events).toEqual(['started one', 'started two'])
    // The first ends; its outcome comes back while the second still waits for its gate. (A gate's
    // word sent before its handler listens is lost: it is said until heard.)
    const open = async (gate: string, event: string): Promise<void> => {
      for (let i = 0; i < 500 && !events.includes(event); i++) {
        new BroadcastChannel(`${key}-${gate}`).postMessage('go')
        await sleep(10)
      }
      expect(events).toContain(event)
    }
    await open('1', 'completed one')
    expect(await first.result()).toBe('one')
    expect(events).not.toContain('completed two')
    await open('2', 'completed two')
    expect(await second.result()).toBe('two')
  })

  it('never waits behind a job of a task not known to be short: a long job runs alone on its worker', async () => {
    const queue = makeQueue({ concurrency: 1, retention: { completed: false } })
    for (let i = 0; i < 3; i++) await (await queue.add('gate', { open: 'warm' })).result()
    // `sleep` has not run yet here: nothing is known of its length.
    const [long, short] = await Promise.all([queue.add('sleep', 300), queue.add('gate', { open: 'after' })])
    const [ran, after] = await Promise.all([long.wait(), short.wait()])
    expect([ran.result, after.result]).toEqual([300, 'after'])
    // The short job started once the long one's 300 ms were over (its worker free), not behind it while it ran.
    expect(after.startedAt).toBeGreaterThanOrEqual((ran.startedAt as number) + 300)
  })
})
