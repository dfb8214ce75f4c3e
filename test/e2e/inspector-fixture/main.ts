// The page test/e2e/inspector.test.ts drives, served under a strict CSP: a queue, an
// <offthread-inspector> on it, and a `fixture` object for the tests to call.
import { createQueue } from 'offthread'
import { OffthreadInspector } from 'offthread/inspector'
import type { Tasks } from './tasks.worker'
import './page.css'

const violations: string[] = []
document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`))

const params = new URLSearchParams(location.search)
const queue = createQueue<Tasks>({
  name: params.get('queue') ?? 'inspector',
  worker: params.has('noworker') ? undefined : () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  concurrency: 2,
})
// Count the inspector's reads (each window of the list is one `list()` call).
let listCalls = 0
const list = queue.list.bind(queue)
queue.list = (options) => {
  listCalls++
  return list(options)
}

// `?bare`: no inspector in the page (while 100,000 jobs are added, say).
const inspector = document.createElement('offthread-inspector')
inspector.queue = queue
if (!params.has('bare')) document.querySelector('main')?.append(inspector)

const shadow = (): ShadowRoot => inspector.shadowRoot as ShadowRoot
const listbox = (): HTMLElement => shadow().querySelector('[role="listbox"]') as HTMLElement
const frame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `test()` holds (checked every frame), or rejects after `ms`. */
async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms
  while (!test()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await frame()
  }
}

const fixture = {
  queue,
  ready: queue.counts().then(() => true),
  violations,
  isInspector: inspector instanceof OffthreadInspector,

  /** ~30 jobs in mixed states: completed, one failed after 3 attempts, 2 running, 2 delayed, 3 waiting. */
  async seed(): Promise<{ failed: string }> {
    const files = ['beach', 'harbour', 'forest', 'market', 'summit', 'bridge', 'lantern', 'garden', 'canyon', 'meadow', 'station']
    const thumbs = await queue.addBulk(
      files.flatMap((file) => [256, 1024].map((width) => ({ name: 'thumbnail' as const, data: { file: `${file}.jpg`, width } }))),
    )
    await Promise.all(thumbs.map((job) => job.result()))
    const failed = await queue.add(
      'upload',
      { file: 'harbour@1024.webp', bytes: 8368 },
      { retry: { attempts: 3, backoff: 'fixed', delay: 20, jitter: false } },
    )
    await failed.wait()
    await queue.addBulk([
      { name: 'transcode', data: { file: 'holiday.mov', seconds: 30 } },
      { name: 'transcode', data: { file: 'interview.mov', seconds: 40 } },
    ])
    await queue.addBulk([
      { name: 'thumbnail', data: { file: 'poster.png', width: 512 }, options: { delay: 3_600_000 } },
      { name: 'thumbnail', data: { file: 'cover.png', width: 512 }, options: { delay: 3_600_000 } },
      { name: 'thumbnail', data: { file: 'avatar.png', width: 128 } },
      { name: 'thumbnail', data: { file: 'banner.png', width: 1920 } },
      { name: 'thumbnail', data: { file: 'icon.png', width: 64 } },
    ])
    await until(() => (shadow().querySelector('.count[data-status="running"] .n')?.textContent ?? '') === '2', 10_000, 'two running jobs')
    await until(() => [...shadow().querySelectorAll('.row .progress')].some((cell) => /^[1-9]/.test(cell.textContent ?? '')), 10_000, 'progress')
    return { failed: failed.id }
  },

  /** Adds `total` `noop` jobs with addBulk, `chunk` at a time; returns the ms it took. */
  async addMany(total: number, chunk: number): Promise<number> {
    const start = performance.now()
    for (let done = 0; done < total; done += chunk) {
      const n = Math.min(chunk, total - done)
      await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'noop' as const, data: done + i })))
    }
    return performance.now() - start
  },

  /**
   * Scrolls the list from top to bottom in `steps` scrollTop steps, waiting at each
   * until the top row shows its job; measures long tasks (where the engine reports
   * them), the longest gap between animation frames, the longest gap between the ticks
   * of a chain of zero-delay timers, the list() calls and the time.
   */
  async scroll(steps: number, total: number): Promise<Record<string, number | boolean | string[]>> {
    const box = listbox()
    const rowAt = (index: number): HTMLElement | null => shadow().querySelector(`.row[data-index="${index}"]`)
    const idAt = (index: number): string => rowAt(index)?.querySelector('.id')?.textContent ?? ''
    await until(() => idAt(0) !== '', 10_000, 'the first row')
    const rowHeight = (rowAt(0) as HTMLElement).getBoundingClientRect().height
    await sleep(300)

    const longTasks: number[] = []
    const longTaskSteps: string[] = []
    let step = 0
    const supported = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('longtask')
    const observer = supported
      ? new PerformanceObserver((entries) => {
          for (const entry of entries.getEntries()) {
            longTasks.push(entry.duration)
            longTaskSteps.push(`step ${step}: ${Math.round(entry.duration)} ms`)
          }
        })
      : undefined
    observer?.observe({ type: 'longtask' })
    let maxGap = 0
    let running = true
    let last = await frame()
    const tick = (now: number): void => {
      maxGap = Math.max(maxGap, now - last)
      last = now
      if (running) requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
    let maxTimerGap = 0
    let lastTimer = performance.now()
    const timerTick = (): void => {
      const now = performance.now()
      maxTimerGap = Math.max(maxTimerGap, now - lastTimer)
      lastTimer = now
      if (running) setTimeout(timerTick, 0)
    }
    setTimeout(timerTick, 0)

    const calls = listCalls
    let maxRows = 0
    const mismatches: string[] = []
    const start = performance.now()
    const maxScroll = box.scrollHeight - box.clientHeight
    for (step = 1; step <= steps; step++) {
      const top = Math.round((maxScroll * step) / steps)
      box.scrollTop = top
      const first = Math.min(total - 1, Math.ceil(top / rowHeight))
      await until(() => idAt(first) !== '', 5000, `row ${first}`)
      maxRows = Math.max(maxRows, shadow().querySelectorAll('.row').length)
      // The row at that offset shows the job list() has there (read outside the count).
      if (step % 10 === 0) {
        const [expected] = await list({ offset: first, limit: 1 })
        if (idAt(first) !== expected?.id) mismatches.push(`row ${first}: ${idAt(first)} ≠ ${expected?.id}`)
      }
    }
    const elapsed = performance.now() - start
    await frame()
    await frame()
    running = false
    for (const entry of observer?.takeRecords() ?? []) {
      longTasks.push(entry.duration)
      longTaskSteps.push(`after: ${Math.round(entry.duration)} ms`)
    }
    observer?.disconnect()
    const [oldest] = await list({ offset: total - 1, limit: 1 })
    // What the reads behind the view cost here: the counts, and a window at the far end.
    let t = performance.now()
    await queue.counts()
    const countsMs = performance.now() - t
    t = performance.now()
    await list({ offset: total - 50, limit: 50 })
    const farWindowMs = performance.now() - t
    return {
      longTaskSupported: supported,
      longTasks: longTasks.length,
      maxLongTask: Math.round(Math.max(0, ...longTasks)),
      maxFrameGap: Math.round(maxGap),
      maxTimerGap: Math.round(maxTimerGap),
      listCalls: listCalls - calls,
      scrollMs: Math.round(elapsed),
      maxRows,
      bottomShowsOldest: idAt(total - 1) !== '' && idAt(total - 1) === oldest?.id,
      scrollHeight: box.scrollHeight,
      countsMs: Math.round(countsMs),
      farWindowMs: Math.round(farWindowMs),
      mismatches,
      longTaskSteps,
    }
  },
}

Object.assign(window, { fixture })
