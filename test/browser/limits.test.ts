import { describe, expect, it } from 'vitest'
import { makeQueue } from './fixtures/queue.js'

describe('per-task limits', () => {
  it('a task with concurrency 1 never overlaps itself, while other tasks use every worker', async () => {
    const queue = makeQueue({ concurrency: 3 })
    // Three workers up first: how fast a pool grows is not what this test is about.
    await Promise.all((await queue.addBulk(Array.from({ length: 3 }, () => ({ name: 'sleep' as const, data: 60 })))).map((h) => h.result()))
    const exclusive = await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'exclusive' as const, data: 40 })))
    const others = await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'sleep' as const, data: 40 })))
    const spans = (await Promise.all(exclusive.map((h) => h.result()))).map(([start, end]) => ({ start, end }))
    spans.sort((a, b) => a.start - b.start)
    for (let i = 1; i < spans.length; i++) expect(spans[i]?.start).toBeGreaterThanOrEqual(spans[i - 1]?.end ?? Infinity)
    const otherRuns = await Promise.all(others.map((h) => h.wait()))
    // The other task ran beside the exclusive one: two of its jobs overlapped in time.
    const starts = otherRuns.map((r) => r.startedAt ?? 0).sort((a, b) => a - b)
    const finishes = otherRuns.map((r) => r.finishedAt ?? 0).sort((a, b) => a - b)
    expect(starts[1]).toBeLessThan(finishes[0] ?? 0)
  })

  it('after a restart, 1,200 waiting jobs of a concurrency-1 task do not hide another task’s job behind them', async () => {
    // Stored by a tab that runs nothing; then a runner starts on them, as after a reload.
    const adder = makeQueue({ worker: undefined })
    await adder.addBulk(Array.from({ length: 1200 }, () => ({ name: 'exclusive' as const, data: 5 })))
    const other = await adder.add('double', 21)
    await adder.close()
    const runner = makeQueue({ name: adder.name, concurrency: 2 })
    const handle = await runner.getJob<number>(other.id)
    await expect(handle?.result()).resolves.toBe(42)
    // It ran beside the first few exclusive jobs, not after the 1,000 of the first window.
    expect((await runner.counts()).completed).toBeLessThan(100)
  })

  it('a task with a rate limit starts at most max jobs per window', async () => {
    const queue = makeQueue({ concurrency: 3 })
    const t0 = Date.now()
    const handles = await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'limited' as const, data: null })))
    const starts = (await Promise.all(handles.map((h) => h.result()))).sort((a, b) => a - b)
    for (let i = 2; i < starts.length; i++) {
      // Any three starts span more than the 200 ms window.
      expect((starts[i] as number) - (starts[i - 2] as number)).toBeGreaterThanOrEqual(195)
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390)
  })

  it('a job waiting for its task to have room can still be cancelled', async () => {
    const queue = makeQueue({ concurrency: 2 })
    const first = await queue.add('exclusive', 200)
    const second = await queue.add('exclusive', 10)
    await expect.poll(() => first.status).toBe('running')
    await expect(second.cancel()).resolves.toBe(true)
    expect(second.status).toBe('cancelled')
    await expect(first.result()).resolves.toHaveLength(2)
    await queue.idle()
  })
})

describe('debounce and throttle on add', () => {
  it('debounce: adds within the delay replace the waiting job’s data; only the last runs', async () => {
    const queue = makeQueue()
    // The margins are wide (50 ms into a 1 s delay): a loaded machine must not make the first run early.
    const first = await queue.add('echo', 'a', { debounce: { key: 'search', delay: 1000 } })
    expect(first.status).toBe('delayed')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const second = await queue.add('echo', 'b', { debounce: { key: 'search', delay: 1000 } })
    const third = await queue.add('echo', 'c', { debounce: { key: 'search', delay: 1000 } })
    expect(second.id).toBe(first.id)
    expect(third.id).toBe(first.id)
    await expect(third.result()).resolves.toBe('c')
    expect(await queue.counts()).toMatchObject({ completed: 1, delayed: 0 })
    // Once it has run, the next add starts a new job.
    const later = await queue.add('echo', 'd', { debounce: { key: 'search', delay: 10 } })
    expect(later.id).not.toBe(first.id)
    await expect(later.result()).resolves.toBe('d')
  })

  it('debounce with key, id, delay or runAt is refused', async () => {
    const queue = makeQueue({ autostart: false })
    await expect(queue.add('echo', 1, { debounce: { key: 'k', delay: 5 }, key: 'x' })).rejects.toThrow(/debounce/)
    await expect(queue.add('echo', 1, { debounce: { key: '', delay: 5 } })).rejects.toThrow(/"debounce.key"/)
  })

  it('throttle: at most max jobs with the key start per window', async () => {
    const queue = makeQueue({ concurrency: 3 })
    const handles = await queue.addBulk(
      Array.from({ length: 6 }, (_, i) => ({ name: 'echo' as const, data: i, options: { throttle: { key: 'api', max: 2, window: 200 } } })),
    )
    const runs = await Promise.all(handles.map((h) => h.wait()))
    const starts = runs.map((r) => r.startedAt ?? 0).sort((a, b) => a - b)
    for (let i = 2; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 2] as number)).toBeGreaterThanOrEqual(195)
    expect(runs.every((r) => r.status === 'completed')).toBe(true)
  })
})
