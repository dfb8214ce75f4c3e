/**
 * What <offthread-inspector> costs the page it is in, in each engine:
 * - mounted inside a React render of a page whose first layout is expensive, it forces
 *   no layout in that render, and the jobs that run next make no long task;
 * - updates driven by job events read no layout (scrollTop, sizes, rects) of it;
 * - in a hidden tab it renders no row and reads no layout; it catches up when shown.
 */
import { createElement, useLayoutEffect, useMemo, useSyncExternalStore, type ReactElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, describe, expect, it } from 'vitest'
import '../../src/inspector.js'
import type { OffthreadInspector } from '../../src/inspector.js'
import { idbStore, type JobHandle, type Queue } from '../../src/index.js'
import { hasStoredBinary, headOfStored } from '../../src/shared/binary.js'
import { toStored } from '../../src/queue/large-data.js'
import { preview, TYPED_VALUES } from '../../src/ui/inspector/preview.js'
import { delay, makeQueue } from './fixtures/queue.js'
import type { Tasks } from './fixtures/tasks.worker.js'

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
  'Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. '
// Long paragraphs: a layout that costs much for few React elements (React's development build renders slowly).
const PARAGRAPH = LOREM.repeat(160)

/** The first layout of the page under test, ms (a real app's took 20–86 ms). */
const FIRST_LAYOUT_MS = 80
/**
 * What is accepted while the jobs run: the longest task (Long Tasks API), and the longest gap of
 * a 10 ms interval timer where there is none. The contract is 50 ms; on 2 cores busy with other
 * test runs (a load average of 8 to 10) Chromium showed a task of 65–95 ms in 3 of about 15 runs,
 * and WebKitGTK gaps of 100–300 ms with or without the inspector: margins. (The code before the
 * fix made no long task there either: what it forced while jobs ran, it forced in frame
 * callbacks, where the frame lays out anyway. The mount and the layout reads tell it.)
 */
const LONG_TASK_LIMIT = 100
const GAP_LIMIT = 250
/** The jobs run with the inspector mounted. */
const JOBS = 300

/** How many paragraphs a first layout of about `ms` takes here (with the text's words already shaped once, as React's copy will find them). */
function paragraphsFor(ms: number): number {
  let paragraphs = 2
  for (let tries = 0; tries < 8; tries++) {
    const box = document.createElement('article')
    box.append(...Array.from({ length: paragraphs }, () => Object.assign(document.createElement('p'), { textContent: PARAGRAPH })))
    document.body.append(box)
    const t0 = performance.now()
    void box.offsetHeight
    const took = performance.now() - t0
    box.remove()
    if (tries > 0 && took >= ms) break
    paragraphs = Math.min(20_000, Math.ceil(paragraphs * Math.min(8, Math.max(1.1, ms / Math.max(took, 0.5)))))
  }
  return paragraphs
}

/**
 * Long tasks while `run` runs. Where the engine has the Long Tasks API (Chromium): tasks
 * of 50 ms or more (a forced layout is part of its task; a frame's rendering counts only
 * when script ran in that frame, as `requestAnimationFrame` callbacks). Elsewhere (Firefox,
 * WebKit): the gaps between the calls of a 10 ms interval timer, which a long task holds
 * up, and so does a long frame.
 */
async function longTasks(run: () => Promise<void>): Promise<{ method: 'longtask' | 'gaps'; longest: number; over50: number }> {
  const supported = typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes.includes('longtask')
  const durations: number[] = []
  let observer: PerformanceObserver | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  if (supported) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) durations.push(entry.duration)
    })
    observer.observe({ type: 'longtask' })
  } else {
    let last = performance.now()
    timer = setInterval(() => {
      const now = performance.now()
      durations.push(now - last)
      last = now
    }, 10)
  }
  try {
    await run()
  } finally {
    for (const entry of observer?.takeRecords() ?? []) durations.push(entry.duration)
    observer?.disconnect()
    clearInterval(timer)
  }
  return { method: supported ? 'longtask' : 'gaps', longest: Math.round(Math.max(0, ...durations)), over50: durations.filter((d) => d >= 50).length }
}

/**
 * An app: the counts (`watchCounts()`, told once a frame) over a long article, and the
 * inspector. `rendered` hears how long each render took from the start of App's render
 * to its layout effect: React's render and commit, with whatever the commit forced.
 */
function App(props: { queue: Queue<Tasks>; paragraphs: number; rendered: (ms: number) => void }): ReactElement {
  const start = performance.now()
  const { queue, paragraphs, rendered } = props
  const counts = useMemo(() => queue.watchCounts(), [queue])
  const value = useSyncExternalStore(
    (listener) => counts.subscribe(listener),
    () => counts.getSnapshot(),
  )
  useLayoutEffect(() => {
    rendered(performance.now() - start)
  })
  const article = useMemo(() => Array.from({ length: paragraphs }, (_, i) => createElement('p', { key: i }, PARAGRAPH)), [paragraphs])
  return createElement(
    'main',
    null,
    createElement('h1', null, `${value.completed} completed, ${value.running} running, ${value.waiting} waiting`),
    createElement('offthread-inspector', { queue }),
    createElement('article', null, article),
  )
}

/**
 * Times each insertion into the document of a tree that holds an inspector: where React's
 * commit connects it (its `connectedCallback` runs inside that call), without React's own
 * render before it (slow in React's development build, slower still on a busy machine).
 */
function timeInsertions(): { times: number[]; restore(): void } {
  const times: number[] = []
  const proto = Node.prototype as unknown as Record<'appendChild' | 'insertBefore', (this: Node, ...args: unknown[]) => unknown>
  const originals = { appendChild: proto.appendChild, insertBefore: proto.insertBefore }
  for (const name of ['appendChild', 'insertBefore'] as const) {
    const original = originals[name]
    proto[name] = function (this: Node, ...args: unknown[]) {
      const node = args[0]
      const holds =
        this.isConnected &&
        node instanceof Element &&
        (node.localName === 'offthread-inspector' || node.querySelector('offthread-inspector') !== null)
      const t0 = performance.now()
      const result = original.apply(this, args)
      if (holds) times.push(performance.now() - t0)
      return result
    }
  }
  const restore = (): void => {
    Object.assign(proto, originals)
  }
  cleanups.push(restore)
  return { times, restore }
}

/** Inspector elements and anything in their shadow roots. */
const inInspector = (node: unknown): boolean => {
  if (!(node instanceof Node)) return false
  const root = node.getRootNode()
  const host = root instanceof ShadowRoot ? root.host : node
  return host instanceof Element && host.localName === 'offthread-inspector'
}

/**
 * Counts reads of layout (and writes of the scroll position, which force one too) made on
 * the inspector or inside it, by redefining the DOM's layout getters and methods for the
 * test. Returns what was read, by name, and a function that puts the originals back.
 */
function spyOnLayout(): { reads: Map<string, number>; restore(): void } {
  const reads = new Map<string, number>()
  const restores: Array<() => void> = []
  const note = (name: string, target: unknown): void => {
    if (inInspector(target)) reads.set(name, (reads.get(name) ?? 0) + 1)
  }
  const accessors: Array<[object, string]> = [
    [Element.prototype, 'scrollTop'],
    [Element.prototype, 'scrollLeft'],
    [Element.prototype, 'scrollHeight'],
    [Element.prototype, 'scrollWidth'],
    [Element.prototype, 'clientHeight'],
    [Element.prototype, 'clientWidth'],
    [Element.prototype, 'clientTop'],
    [Element.prototype, 'clientLeft'],
    [HTMLElement.prototype, 'offsetHeight'],
    [HTMLElement.prototype, 'offsetWidth'],
    [HTMLElement.prototype, 'offsetTop'],
    [HTMLElement.prototype, 'offsetLeft'],
    [HTMLElement.prototype, 'offsetParent'],
  ]
  for (const [proto, name] of accessors) {
    const original = Object.getOwnPropertyDescriptor(proto, name)
    if (!original?.get) continue
    const { get, set } = original
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: original.enumerable ?? false,
      get(this: Element) {
        note(name, this)
        return get.call(this)
      },
      ...(set
        ? {
            set(this: Element, value: unknown) {
              note(`${name} =`, this)
              set.call(this, value)
            },
          }
        : {}),
    })
    restores.push(() => Object.defineProperty(proto, name, original))
  }
  for (const name of ['getBoundingClientRect', 'getClientRects', 'scrollIntoView'] as const) {
    const original = Object.getOwnPropertyDescriptor(Element.prototype, name) as PropertyDescriptor
    const method = original.value as (...args: unknown[]) => unknown
    Object.defineProperty(Element.prototype, name, {
      ...original,
      value(this: Element, ...args: unknown[]) {
        note(name, this)
        return method.apply(this, args)
      },
    })
    restores.push(() => Object.defineProperty(Element.prototype, name, original))
  }
  const restore = (): void => {
    for (const undo of restores.splice(0)) undo()
  }
  cleanups.push(restore)
  return { reads, restore }
}

/** Makes the page look hidden (as a tab behind another) until the returned function shows it again. */
function hideTab(): () => void {
  Object.defineProperty(document, 'hidden', { value: true, configurable: true })
  Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
  document.dispatchEvent(new Event('visibilitychange'))
  const show = (): void => {
    if (!Object.prototype.hasOwnProperty.call(document, 'hidden')) return
    delete (document as { hidden?: boolean }).hidden
    delete (document as { visibilityState?: string }).visibilityState
    document.dispatchEvent(new Event('visibilitychange'))
  }
  cleanups.push(show)
  return show
}

function mount(queue: Queue<Tasks>): OffthreadInspector {
  const el = document.createElement('offthread-inspector')
  el.queue = queue
  document.body.append(el)
  cleanups.push(() => el.remove())
  return el
}

const rowsOf = (el: OffthreadInspector): HTMLElement[] => [...(el.shadowRoot as ShadowRoot).querySelectorAll<HTMLElement>('.row')]
const shownIds = (el: OffthreadInspector): string[] =>
  rowsOf(el)
    .sort((a, b) => Number(a.dataset['index']) - Number(b.dataset['index']))
    .map((row) => row.querySelector('.id')?.textContent ?? '')
const badges = (el: OffthreadInspector): string[] => rowsOf(el).map((row) => row.querySelector('.badge')?.textContent ?? '')
const countOf = (el: OffthreadInspector, status: string): string =>
  (el.shadowRoot as ShadowRoot).querySelector(`.count[data-status="${status}"] .n`)?.textContent ?? ''

/** Adds `n` short jobs in slices (as an app adds work), and waits until all ran. */
async function runJobs(queue: Queue<Tasks>, n: number, slice = 50): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += slice) {
    const handles = await queue.addBulk(Array.from({ length: Math.min(slice, n - i) }, (_, j) => ({ name: 'double' as const, data: i + j })))
    ids.push(...handles.map((h) => h.id))
  }
  await queue.idle()
  return ids
}

describe('<offthread-inspector>: what it costs the page', () => {
  // Timing on shared cores: a run hit by another process's burst (a 184 ms task with no inspector at all, once) is run
  // again. What tells the code before the fix (the mount's time, the layout reads) fails every time.
  it(`mounted in a React render it forces no layout there, and ${JOBS} jobs then run with no long task`, { retry: 2, timeout: 60_000 }, async () => {
    // A page whose first layout takes ~80 ms: a layout forced in React's commit would add that to React's task.
    const paragraphs = paragraphsFor(FIRST_LAYOUT_MS)
    const queue = makeQueue({ concurrency: 2 })
    // Workers started and the queue warm before anything is measured (as the bench does).
    await runJobs(queue, 10)
    const renders: number[] = []
    const host = document.createElement('div')
    document.body.append(host)
    const root = createRoot(host)
    cleanups.push(() => {
      root.unmount()
      host.remove()
    })
    // The calibration's task ends first.
    await delay(50)
    const spy = spyOnLayout()
    const insertions = timeInsertions()
    root.render(createElement(App, { queue, paragraphs, rendered: (ms) => renders.push(ms) }))
    await expect.poll(() => renders.length).toBeGreaterThan(0)
    insertions.restore()
    const el = host.querySelector('offthread-inspector') as OffthreadInspector
    expect(el.queue).toBe(queue)
    // The page's first frames (its own ~80 ms layout) pass; then the jobs run, and the list catches up.
    await delay(500)
    const figures = await longTasks(async () => {
      const ids = await runJobs(queue, JOBS)
      await expect.poll(() => countOf(el, 'completed')).toBe((10 + JOBS).toLocaleString())
      await expect.poll(() => shownIds(el)[0]).toBe(ids.at(-1))
    })
    spy.restore()
    const first = Math.round(renders[0] as number)
    const mount = Math.round(Math.max(...insertions.times))
    console.log(
      `[inspector cost] ${paragraphs} paragraphs; React's first render ${first} ms, of which mounting the inspector ${mount} ms; jobs: ${figures.method} longest ${figures.longest} ms, ${figures.over50} of 50 ms or more; layout reads ${JSON.stringify([...spy.reads])}`,
    )
    // Mounting it in React's commit adds no long task to React's render: the page's layout is not in it (before, it
    // was: 79–132 ms in Chromium, 132–282 ms in WebKit; Firefox lays nothing out for a scrollTop write that does not move).
    expect(insertions.times).toHaveLength(1)
    expect(mount).toBeLessThan(50)
    // No layout read in React's commit, nor since (nothing scrolled).
    expect([...spy.reads]).toEqual([])
    // While the jobs run (see LONG_TASK_LIMIT). The Long Tasks API counts tasks (and frames that ran script); timer
    // gaps also count every frame's rendering and the engine's own pauses (WebKitGTK under Xvfb on 2 busy cores: 48–106
    // ms gaps running 600 of these jobs in this page with no inspector at all, 62–148 ms with it).
    expect(figures.longest).toBeLessThan(figures.method === 'longtask' ? LONG_TASK_LIMIT : GAP_LIMIT)
  })

  it('updates driven by job events read no layout of the list (no scrollTop, no size, no rect)', async () => {
    const queue = makeQueue({ concurrency: 2 })
    await runJobs(queue, 20)
    const spy = spyOnLayout()
    const el = mount(queue)
    await expect.poll(() => countOf(el, 'completed')).toBe('20')
    const ids = await runJobs(queue, 200, 20)
    await expect.poll(() => countOf(el, 'completed')).toBe('220')
    await expect.poll(() => shownIds(el)[0]).toBe(ids.at(-1))
    await expect.poll(() => badges(el).every((badge) => badge === 'completed')).toBe(true)
    spy.restore()
    // Mounting on a list already at the top does not write scrollTop either.
    expect([...spy.reads]).toEqual([])
  })

  it('in a hidden tab it renders no row and reads no layout while jobs run, and shows them when the tab is shown', async () => {
    const queue = makeQueue({ concurrency: 2 })
    const before = await runJobs(queue, 10)
    const el = mount(queue)
    await expect.poll(() => shownIds(el)[0]).toBe(before.at(-1))
    const list = (el.shadowRoot as ShadowRoot).querySelector('.list') as HTMLElement
    const mutations: MutationRecord[] = []
    const watcher = new MutationObserver((records) => mutations.push(...records))
    cleanups.push(() => watcher.disconnect())

    const show = hideTab()
    const spy = spyOnLayout()
    watcher.observe(list, { subtree: true, childList: true, characterData: true, attributes: true })
    const ids = await runJobs(queue, 100, 10)
    // Past the list's re-read interval and a few frames' worth of timers.
    await delay(400)
    expect([...spy.reads]).toEqual([])
    expect(mutations.length).toBe(0)
    expect(shownIds(el)[0]).toBe(before.at(-1))

    show()
    await expect.poll(() => shownIds(el)[0]).toBe(ids.at(-1))
    await expect.poll(() => badges(el).every((badge) => badge === 'completed')).toBe(true)
    spy.restore()
    expect([...spy.reads]).toEqual([])
  })

  describe('the input preview reads only what it shows', () => {
    /** A 100 MiB input whose first bytes are 0, 1, 2… (2–5 s a test in WebKitGTK on a busy machine, under 1 s elsewhere). */
    const MIB = 100
    const bigInput = (): Uint8Array => {
      const bytes = new Uint8Array(MIB * 2 ** 20)
      for (let i = 0; i < 64; i++) bytes[i] = i
      return bytes
    }
    const SHOWN = new RegExp(
      `^Uint8Array\\(${(MIB * 2 ** 20).toLocaleString().replace(/\D/g, '.?')}\\) \\{ byteLength: ${(MIB * 2 ** 20).toLocaleString().replace(/\D/g, '.?')} \\} \\[0, 1, 2, 3, 4, 5, 6, 7, …\\]$`,
    )

    /** Counts the bytes read out of Blobs (each read's Blob size) until the returned function is called. */
    function spyOnBlobReads(): { bytes(): number; restore(): void } {
      let bytes = 0
      const restores: Array<() => void> = []
      for (const name of ['arrayBuffer', 'text', 'stream', 'bytes'] as const) {
        const original = Object.getOwnPropertyDescriptor(Blob.prototype, name)
        if (typeof original?.value !== 'function') continue
        const method = original.value as (this: Blob) => unknown
        Object.defineProperty(Blob.prototype, name, {
          ...original,
          value(this: Blob) {
            bytes += this.size
            return method.call(this)
          },
        })
        restores.push(() => Object.defineProperty(Blob.prototype, name, original))
      }
      for (const name of ['readAsArrayBuffer', 'readAsText', 'readAsDataURL', 'readAsBinaryString'] as const) {
        const original = Object.getOwnPropertyDescriptor(FileReader.prototype, name)
        if (typeof original?.value !== 'function') continue
        const method = original.value as (this: FileReader, blob: Blob, ...rest: unknown[]) => void
        Object.defineProperty(FileReader.prototype, name, {
          ...original,
          value(this: FileReader, blob: Blob, ...rest: unknown[]) {
            bytes += blob.size
            method.call(this, blob, ...rest)
          },
        })
        restores.push(() => Object.defineProperty(FileReader.prototype, name, original))
      }
      const restore = (): void => {
        for (const undo of restores.splice(0)) undo()
      }
      cleanups.push(restore)
      return { bytes: () => bytes, restore }
    }

    it(`a stored ${MIB} MiB binary is previewed from its first elements: its size and first bytes shown, ${TYPED_VALUES} bytes read`, async () => {
      const store = idbStore()
      const queue = makeQueue({ store, autostart: false })
      const input = bigInput()
      const job = await queue.add('echo', input)
      const reads = spyOnBlobReads()
      let [stored] = await store.getData([job.id])
      // WebKitGTK under WebDriver refuses Blobs in IndexedDB (the queue then stores the bytes whole, read whole):
      // there, the form the queue stores elsewhere, a Blob built the same way.
      if (!hasStoredBinary(stored)) stored = await toStored(input)
      const text = preview(await headOfStored(stored, TYPED_VALUES))
      const nested = preview(await headOfStored({ name: 'photo', bytes: stored }, TYPED_VALUES))
      reads.restore()
      expect(text).toMatch(SHOWN)
      expect(nested).toContain('[0, 1, 2, 3, 4, 5, 6, 7, …]')
      // Each preview read 8 one-byte elements: what it shows.
      expect(reads.bytes()).toBeLessThanOrEqual(2 * TYPED_VALUES)
    }, 60_000)

    it(`the detail of a job with a ${MIB} MiB input shows its size and first bytes, and reads no more of it`, async () => {
      const store = idbStore()
      const queue = makeQueue({ store, autostart: false })
      // Another instance on the same database, as another tab: no handle there holds the input in memory.
      const other = makeQueue({ name: queue.name, worker: undefined })
      const small = await queue.add('echo', 1)
      // The bounded read is the queue's handles' `dataHead` (src/queue: handle.ts, live-handles.ts).
      expect(typeof ((await other.getJob(small.id)) as JobHandle & { dataHead?: unknown }).dataHead).toBe('function')
      const job = await queue.add('echo', bigInput())
      // (WebKitGTK under WebDriver refuses Blobs in IndexedDB: there the bytes are stored whole and come with the
      // job's record, so no Blob read is counted; what it shows is checked all the same.)
      const el = mount(other)
      await expect.poll(() => shownIds(el)[0]).toBe(job.id)
      const reads = spyOnBlobReads()
      rowsOf(el)
        .find((row) => row.querySelector('.id')?.textContent === job.id)
        ?.click()
      const input = (): string => (el.shadowRoot as ShadowRoot).querySelector('.detail .input')?.textContent ?? ''
      await expect.poll(input, { timeout: 15_000 }).toMatch(/^Uint8Array/)
      reads.restore()
      expect(input()).toMatch(SHOWN)
      expect(reads.bytes()).toBeLessThanOrEqual(TYPED_VALUES)
    }, 60_000)
  })
})
