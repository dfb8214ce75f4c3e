// offthread/react in real engines: hooks rendered by react-dom into the page, against
// queues on IndexedDB with module workers. No act(): React schedules renders as it does
// in an app (so the render counts are real), and the tests wait for the DOM.
import { createElement as h, memo, StrictMode, useState, type ReactNode } from 'react'
import { createRoot, hydrateRoot, type Root } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createQueue, idbStore, memoryStore, type JobHandle, type Queue } from '../../src/index.js'
import { useCounts, useJob, useJobs, useQueueError, useRole } from '../../src/react.js'
import { makeQueue, queueMaker, track } from './fixtures/queue.js'
import type { ReactTasks } from './fixtures/react.worker.js'
import type { Tasks } from './fixtures/tasks.worker.js'

const reactWorker = (): Worker => new Worker(new URL('./fixtures/react.worker.ts', import.meta.url), { type: 'module' })

const mounted: Array<{ root: Root; container: HTMLElement }> = []
let counter = 0

const reactQueue = queueMaker<ReactTasks>(reactWorker, () => `react-${Date.now()}-${++counter}`)
/** A queue of the React fixture tasks on a fresh IndexedDB database, closed and deleted after the test. */
const makeReactQueue = (concurrency = 2): Queue<ReactTasks> => reactQueue({ concurrency })

/** Renders `node` into a fresh element of the page; unmounted after the test. */
function render(node: ReactNode): HTMLElement {
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  root.render(node)
  mounted.push({ root, container })
  return container
}

/** The text of the element with `data-testid="id"` in `container`. */
const text = (container: HTMLElement, id: string): string | null | undefined => container.querySelector(`[data-testid="${id}"]`)?.textContent

afterEach(() => {
  for (const { root, container } of mounted.splice(0)) {
    root.unmount()
    container.remove()
  }
})

/** The engine, for the figures the render-storm tests print. */
const engine = (): string => {
  const ua = navigator.userAgent
  const version = (name: string): string => ua.match(new RegExp(`${name}/([\\d.]+)`))?.[1] ?? '?'
  if (ua.includes('Firefox/')) return `Firefox ${version('Firefox')}`
  if (ua.includes('Chrome/')) return `Chromium ${version('Chrome')}`
  return `WebKit ${version('AppleWebKit')}`
}

/**
 * Counts the moments at which the live views may tell their listeners (src/shared/frame.ts):
 * each animation frame, and, where frames stall, the 100 ms backstop timer (each gap of
 * 100 ms or more between frames counts as one per 100 ms). Where the page is hidden
 * (no frames at all), the 16 ms timer that stands in for frames.
 */
function countFrames(): { how: string; stop(): number } {
  const start = performance.now()
  if (document.visibilityState === 'hidden') {
    return { how: '16 ms ticks (hidden page)', stop: () => Math.ceil((performance.now() - start) / 16) }
  }
  let frames = 0
  let stalls = 0
  let last = start
  let running = true
  const gap = (now: number): void => {
    stalls += Math.floor((now - last) / 100)
    last = now
  }
  const tick = (now: number): void => {
    if (!running) return
    frames++
    gap(Math.max(now, last))
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
  const result = { how: 'animation frames', stop: () => 0 }
  result.stop = () => {
    running = false
    gap(performance.now())
    if (stalls > 0) result.how = `animation frames + ${stalls} stalls of 100 ms`
    return frames + stalls
  }
  return result
}

describe('offthread/react (react-dom in the page)', () => {
  it('useJob(handle) shows each new progress, then the result and status completed', async () => {
    const queue = makeReactQueue()
    const handle = await queue.add('steps', { steps: 8, every: 40 })
    const seen: string[] = []
    function Job({ job }: { job: JobHandle<string, { done: number; total: number }> }) {
      const snap = useJob(job)
      const progress = snap.progress ? `${snap.progress.done}/${snap.progress.total}` : 'none'
      seen.push(progress)
      return h(
        'p',
        null,
        h('span', { 'data-testid': 'status' }, snap.status),
        h('span', { 'data-testid': 'progress' }, progress),
        h('span', { 'data-testid': 'result' }, snap.result ?? ''),
      )
    }
    const view = render(h(Job, { job: handle }))
    await vi.waitFor(() => expect(text(view, 'progress')).toMatch(/^[1-8]\/8$/), { timeout: 5000, interval: 5 })
    await vi.waitFor(() => expect(text(view, 'status')).toBe('completed'), { timeout: 5000 })
    expect(text(view, 'result')).toBe('done 8')
    expect(text(view, 'progress')).toBe('8/8')
    await expect(handle.result()).resolves.toBe('done 8')
    // Live on the way, not only at the end: several progress values were rendered, in order.
    const shown = [...new Set(seen.filter((p) => p !== 'none'))]
    expect(shown.length).toBeGreaterThanOrEqual(3)
    const done = shown.map((p) => Number(p.split('/')[0]))
    expect(done).toEqual([...done].sort((a, b) => a - b))
  })

  it('a job removed by another queue instance of the same name (another tab) leaves useJobs and useJob(queue, id)', async () => {
    const queue = makeQueue({ autostart: false })
    const kept = await queue.add('double', 1)
    const doomed = await queue.add('double', 2)
    function Jobs() {
      const { jobs } = useJobs(queue)
      const byId = useJob<number>(queue, doomed.id)
      return h(
        'div',
        null,
        h('span', { 'data-testid': 'list' }, jobs.map((job) => job.id).join(',')),
        h('span', { 'data-testid': 'byId' }, byId.job ? `${byId.job.id}:${byId.job.status}` : byId.state),
      )
    }
    const view = render(h(Jobs))
    // Newest first.
    await vi.waitFor(() => expect(text(view, 'list')).toBe(`${doomed.id},${kept.id}`), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'byId')).toBe(`${doomed.id}:waiting`), { timeout: 5000 })

    // Another tab: a queue of the same name, without a worker, on its own connection.
    const other = makeQueue({ name: queue.name, worker: undefined })
    await expect(other.remove(doomed.id)).resolves.toBe(true)
    await vi.waitFor(() => expect(text(view, 'list')).toBe(kept.id), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('deleted'), { timeout: 5000 })
    await expect(queue.getJob(doomed.id)).resolves.toBeUndefined()
  })

  it('useJob(queue, id) follows the id: missing for an unknown id, the job once one is given', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 3)
    let setId: (id: string) => void = () => undefined
    function ById({ initial }: { initial: string }) {
      const [id, set] = useState(initial)
      setId = set
      const { job: snap, state } = useJob(queue, id)
      return h('span', { 'data-testid': 'byId' }, snap ? `${snap.id}:${snap.status}` : `${state}:${id}`)
    }
    const view = render(h(ById, { initial: 'no-such-job' }))
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('missing:no-such-job'), { timeout: 5000 })
    setId(job.id)
    await vi.waitFor(() => expect(text(view, 'byId')).toBe(`${job.id}:waiting`), { timeout: 5000 })
    queue.start()
    await vi.waitFor(() => expect(text(view, 'byId')).toBe(`${job.id}:completed`), { timeout: 5000 })
    // A job added later under the id asked for shows up.
    setId('chosen-id')
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('missing:chosen-id'), { timeout: 5000 })
    await queue.add('double', 4, { id: 'chosen-id' })
    await vi.waitFor(() => expect(text(view, 'byId')).toMatch(/^chosen-id:(waiting|running|completed)$/), { timeout: 5000 })
  })

  it('no render storm: 1,000 jobs reporting progress render a useJobs list at most once a frame', async () => {
    const JOBS = 1000
    const CALLS = 50
    const queue = makeReactQueue(2)
    queue.pause()
    let renders = 0
    let largest = 0
    function Running() {
      const { jobs: running } = useJobs(queue, { status: 'running' })
      renders++
      largest = Math.max(largest, running.length)
      return h(
        'ul',
        null,
        running.map((job) => h('li', { key: job.id }, `${job.name} ${String(job.progress ?? '')}`)),
      )
    }
    function Done() {
      const { counts } = useCounts(queue)
      return h('span', { 'data-testid': 'counts' }, `${counts.waiting} waiting ${counts.completed} completed`)
    }
    let progressEvents = 0
    const off = queue.on('progress', () => progressEvents++)
    await queue.addBulk(Array.from({ length: JOBS }, () => ({ name: 'burst' as const, data: CALLS })))
    const view = render(h('div', null, h(Running), h(Done)))
    // The first reads, before the run starts.
    await vi.waitFor(() => expect(text(view, 'counts')).toBe(`${JOBS} waiting 0 completed`), { timeout: 5000 })
    const before = renders

    const frames = countFrames()
    const start = performance.now()
    queue.resume()
    await queue.idle()
    await vi.waitFor(() => expect(text(view, 'counts')).toBe(`0 waiting ${JOBS} completed`), { timeout: 10_000 })
    const duration = performance.now() - start
    const frameCount = frames.stop()
    off()
    const during = renders - before
    console.log(
      `[react render storm] ${engine()}: ` +
        `${during} renders of the running list, ${frameCount} ${frames.how}, ${progressEvents} progress events ` +
        `(${JOBS * CALLS} ctx.progress calls), ${Math.round(duration)} ms, at most ${largest} running at once`,
    )
    expect(progressEvents).toBeGreaterThanOrEqual(JOBS)
    // It did render while the jobs ran: the list showed running jobs.
    expect(largest).toBeGreaterThanOrEqual(1)
    expect(during).toBeGreaterThanOrEqual(2)
    expect(during).toBeLessThanOrEqual(frameCount + 3)
  })

  it('no render storm: long jobs reporting faster than frames render useJobs and useJob(handle) at most once a frame', async () => {
    // Two jobs at once, each sending progress every ~16 ms (the worker's pace): more progress than frames.
    const queue = makeReactQueue(2)
    queue.pause()
    const first = await queue.add('steps', { steps: 200, every: 2 })
    const second = await queue.add('steps', { steps: 200, every: 2 })
    let listRenders = 0
    let jobRenders = 0
    function Running() {
      const { jobs: running } = useJobs(queue, { status: 'running', name: 'steps' })
      listRenders++
      return h('p', null, running.map((job) => `${job.progress?.done ?? 0}`).join(' '))
    }
    function One({ job }: { job: JobHandle<string, { done: number; total: number }> }) {
      const snap = useJob(job)
      jobRenders++
      return h('span', { 'data-testid': 'one' }, `${snap.status} ${snap.progress?.done ?? 0}`)
    }
    let progressEvents = 0
    const off = queue.on('progress', () => progressEvents++)
    const view = render(h('div', null, h(Running), h(One, { job: first })))
    await vi.waitFor(() => expect(text(view, 'one')).toBe('waiting 0'), { timeout: 5000 })
    const [listBefore, jobBefore] = [listRenders, jobRenders]

    const frames = countFrames()
    const start = performance.now()
    queue.resume()
    await Promise.all([first.result(), second.result()])
    await vi.waitFor(() => expect(text(view, 'one')).toBe('completed 200'), { timeout: 5000 })
    const duration = performance.now() - start
    const frameCount = frames.stop()
    off()
    const list = listRenders - listBefore
    const one = jobRenders - jobBefore
    console.log(
      `[react render storm, long jobs] ${engine()}: ` +
        `${list} renders of the running list, ${one} renders of useJob(handle), ${frameCount} ${frames.how}, ` +
        `${progressEvents} progress events (800 ctx.progress calls), ${Math.round(duration)} ms`,
    )
    expect(progressEvents).toBeGreaterThanOrEqual(4)
    expect(one).toBeGreaterThanOrEqual(3)
    expect(list).toBeGreaterThanOrEqual(3)
    expect(one).toBeLessThanOrEqual(frameCount + 3)
    expect(list).toBeLessThanOrEqual(frameCount + 3)
  })

  it('no render storm: one component reading 16 handles and the counts renders at most once a frame, not once per view', async () => {
    // Every live view of a frame is told from one animation-frame callback (shared/frame.ts): a
    // component reading several views renders once for all of them. (Before: 259 renders in 77 frames.)
    const queue = makeReactQueue(4)
    queue.pause()
    const jobs = await Promise.all(Array.from({ length: 16 }, () => queue.add('steps', { steps: 60, every: 3 })))
    let renders = 0
    function Many() {
      const snaps = jobs.map((job) => useJob(job))
      const { counts } = useCounts(queue)
      renders++
      return h('p', { 'data-testid': 'many' }, `${counts.completed} ${snaps.filter((s) => s.status === 'completed').length}`)
    }
    const view = render(h(Many))
    await vi.waitFor(() => expect(text(view, 'many')).toBe('0 0'), { timeout: 5000 })
    const before = renders
    const frames = countFrames()
    queue.resume()
    await Promise.all(jobs.map((job) => job.result()))
    await vi.waitFor(() => expect(text(view, 'many')).toBe('16 16'), { timeout: 5000 })
    const frameCount = frames.stop()
    const count = renders - before
    console.log(`[react render storm, 16 handles + counts] ${engine()}: ${count} renders, ${frameCount} ${frames.how}`)
    expect(count).toBeGreaterThanOrEqual(3)
    expect(count).toBeLessThanOrEqual(frameCount + 3)
  })

  it("useRole shows 'runner' for a queue with a worker, and useCounts follows adds and completions", async () => {
    const queue = makeQueue({ autostart: false })
    const follower = makeQueue({ name: queue.name, worker: undefined })
    function Status({ of, id }: { of: Queue<Tasks>; id: string }) {
      const role = useRole(of)
      const { counts } = useCounts(of)
      return h('span', { 'data-testid': id }, `${role} ${counts.waiting} waiting ${counts.completed} completed`)
    }
    const view = render(h('div', null, h(Status, { of: queue, id: 'runner' }), h(Status, { of: follower, id: 'follower' })))
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner 0 waiting 0 completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower 0 waiting 0 completed'), { timeout: 5000 })
    await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'double', data: 2 },
      { name: 'double', data: 3 },
    ])
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner 3 waiting 0 completed'), { timeout: 5000 })
    // The other tab hears of it too.
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower 3 waiting 0 completed'), { timeout: 5000 })
    queue.start()
    await queue.idle()
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner 0 waiting 3 completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower 0 waiting 3 completed'), { timeout: 5000 })
  })
})

describe('offthread/react: states, identity, actions, server rendering', () => {
  it('useJob(queue, id) tells loading, ready, deleted and missing apart, and gives the handle (a Cancel button)', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const busy = await queue.add('sleep', 20_000)
    const job = await queue.add('sleep', 10)
    const states: string[] = []
    function Job({ id }: { id: string }) {
      const { state, job: snap, handle } = useJob(queue, id, 'sleep')
      states.push(state)
      return h(
        'div',
        null,
        h('span', { 'data-testid': 'state' }, `${state}${snap ? ` ${snap.status}` : ''}`),
        handle ? h('button', { 'data-testid': 'cancel', onClick: () => void handle.cancel('clicked') }, 'Cancel') : null,
      )
    }
    const view = render(h('div', null, h(Job, { id: job.id })))
    await vi.waitFor(() => expect(states[0]).toBe('loading'))
    await vi.waitFor(() => expect(text(view, 'state')).toBe('ready waiting'), { timeout: 5000 })
    ;(view.querySelector('[data-testid="cancel"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(text(view, 'state')).toBe('ready cancelled'), { timeout: 5000 })
    await queue.remove(job.id)
    await vi.waitFor(() => expect(text(view, 'state')).toBe('deleted'), { timeout: 5000 })
    // A job of another task, typed by name: not that task's job.
    const other = await queue.add('double', 1)
    const typed = render(h(Job, { id: other.id }))
    await vi.waitFor(() => expect(text(typed, 'state')).toBe('missing'), { timeout: 5000 })
    await busy.cancel()
  })

  it('a read that fails is an error state (the last value kept), read again a moment later', async () => {
    const store = memoryStore()
    const queue = track(createQueue<Tasks>({ name: `react-error-${++counter}`, store, autostart: false, replace: false }))
    await queue.add('double', 1)
    const list = store.list.bind(store)
    const getFull = store.getFull.bind(store)
    let broken = false
    store.list = (query) => (broken ? Promise.reject(new Error('disk on fire')) : list(query))
    store.getFull = (id, options) => (broken ? Promise.reject(new Error('disk on fire')) : getFull(id, options))
    function View() {
      const { jobs, state, error } = useJobs(queue)
      const byId = useJob(queue, 'never-added')
      const trouble = useQueueError(queue)
      return h(
        'p',
        { 'data-testid': 'view' },
        `${state} ${jobs.length} ${error?.message ?? '-'} | ${byId.state} ${byId.error?.message ?? '-'} | ${trouble?.message ?? '-'}`,
      )
    }
    const report = vi.spyOn(globalThis, 'reportError').mockImplementation(() => undefined)
    broken = true
    const view = render(h(View))
    // Both reads fail; each view says so, and reads again a moment later (1 s, then longer).
    await vi.waitFor(() => expect(text(view, 'view')).toMatch(/\| error disk on fire \|/), { timeout: 5000 })
    broken = false
    await vi.waitFor(() => expect(text(view, 'view')).toMatch(/^ready 1 - /), { timeout: 5000 })
    // A job of that id added: looked up again, and there is none of it yet (still missing, no error).
    await queue.add('double', 9, { id: 'other-id' })
    await vi.waitFor(() => expect(text(view, 'view')).toBe('ready 2 - | missing - | -'), { timeout: 5000 })
    broken = true
    await queue.add('double', 2)
    // The list it read last stays, with what the events told since (the job added), and the error.
    await vi.waitFor(() => expect(text(view, 'view')).toMatch(/^error 3 disk on fire/), { timeout: 5000 })
    broken = false
    await queue.add('double', 3)
    await vi.waitFor(() => expect(text(view, 'view')).toBe('ready 4 - | missing - | -'), { timeout: 5000 })
    report.mockRestore()
  })

  it("useQueueError shows the queue's error event: a worker module that cannot start", async () => {
    const queue = makeQueue({ worker: () => new Worker(new URL('./fixtures/broken.worker.ts', import.meta.url), { type: 'module' }) })
    function Trouble() {
      const error = useQueueError(queue)
      return h('p', { 'data-testid': 'trouble' }, error ? error.name : 'all well')
    }
    const view = render(h(Trouble))
    await queue.add('double', 1).catch(() => undefined)
    await vi.waitFor(() => expect(text(view, 'trouble')).toBe('WorkerError'), { timeout: 10_000 })
  })

  it('React.memo rows of jobs that did not change do not render again when another job changes; views of one query share its reads', async () => {
    const store = idbStore()
    const queue = makeQueue({ autostart: false, store })
    const handles = await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'double', data: 2 },
      { name: 'double', data: 3 },
    ])
    const rowRenders = new Map<string, number>()
    const Row = memo(function Row({ job }: { job: { id: string; status: string } }) {
      rowRenders.set(job.id, (rowRenders.get(job.id) ?? 0) + 1)
      return h('li', { 'data-testid': job.id }, job.status)
    })
    function List() {
      const { jobs } = useJobs(queue, { status: ['waiting', 'cancelled'] })
      return h(
        'ul',
        null,
        jobs.map((job) => h(Row, { key: job.id, job })),
      )
    }
    // The store's reads: what every view of the queue reads through.
    const list = vi.spyOn(store, 'list')
    const view = render(h('div', null, h(List), h(List)))
    const [a, b, c] = handles as [JobHandle, JobHandle, JobHandle]
    await vi.waitFor(() => expect(text(view, c.id)).toBe('waiting'), { timeout: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const before = { ...Object.fromEntries(rowRenders) }
    const reads = list.mock.calls.length
    await b.cancel()
    await vi.waitFor(() => expect(text(view, b.id)).toBe('cancelled'), { timeout: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    // Two lists of the same query: one read for the change, and only b's rows rendered again.
    expect(list.mock.calls.length - reads).toBe(1)
    expect(rowRenders.get(a.id)).toBe(before[a.id])
    expect(rowRenders.get(c.id)).toBe(before[c.id])
    expect(rowRenders.get(b.id)).toBe((before[b.id] ?? 0) + 2)
  })

  it('StrictMode: effects run twice, the views still follow the job and let go of the queue when unmounted', async () => {
    const queue = makeQueue()
    const job = await queue.add('report', 20)
    function Both() {
      const { job: snap } = useJob(queue, job.id, 'report')
      const { counts } = useCounts(queue)
      return h('p', { 'data-testid': 'both' }, `${snap?.status ?? '-'} ${counts.completed}`)
    }
    const container = document.createElement('div')
    document.body.append(container)
    const root = createRoot(container)
    root.render(h(StrictMode, null, h(Both)))
    try {
      await vi.waitFor(() => expect(container.textContent).toBe('completed 1'), { timeout: 10_000 })
    } finally {
      root.unmount()
      container.remove()
    }
    expect((queue.watchCounts() as unknown as { watched: boolean }).watched).toBe(false)
    expect((queue.watchJob(job.id, 'report') as unknown as { watched: boolean }).watched).toBe(false)
  })

  it('hydration of server-rendered HTML matches (no recoverable error), then shows the live state', async () => {
    const queue = makeQueue()
    await (await queue.add('double', 1)).result()
    await vi.waitFor(() => expect(queue.role).toBe('runner'))
    function App({ of }: { of: Queue<Tasks> }) {
      const role = useRole(of)
      const { counts, state } = useCounts(of)
      const { jobs } = useJobs(of)
      return h('p', null, `${role} ${state} ${counts.completed} ${jobs.length}`)
    }
    // What a server renders: its own queue object, which has read nothing and runs nothing.
    const onServer = track(createQueue<Tasks>({ name: queue.name, store: memoryStore(), autostart: false, replace: false }))
    const container = document.createElement('div')
    container.innerHTML = renderToString(h(App, { of: onServer }))
    document.body.append(container)
    expect(container.textContent).toBe('follower loading 0 0')
    const recoverable: unknown[] = []
    const errors = vi.spyOn(console, 'error')
    const root = hydrateRoot(container, h(App, { of: queue }), { onRecoverableError: (error) => recoverable.push(error) })
    mounted.push({ root, container })
    await vi.waitFor(() => expect(container.textContent).toBe('runner ready 1 1'), { timeout: 5000 })
    expect(recoverable).toEqual([])
    expect(errors.mock.calls.filter((call) => String(call[0]).includes('ydrat'))).toEqual([])
    errors.mockRestore()
  })
})
