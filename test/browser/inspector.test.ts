/**
 * <offthread-inspector> in each engine: live counts, a failed job's detail,
 * the cancel / retry / remove buttons, `name=` observing without running, the
 * filters, and the virtualised list (few rows in the DOM, the right rows
 * after a scroll). Keyboard, 100,000 jobs and a strict CSP: test/e2e/inspector.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import '../../src/inspector.js'
import { OffthreadInspector } from '../../src/inspector.js'
import { geometry, MAX_SCROLL_HEIGHT, scrollTopFor } from '../../src/ui/inspector/rows.js'
import { preview } from '../../src/ui/inspector/preview.js'
import { ROW_HEIGHT } from '../../src/ui/inspector/styles.js'
import type { InspectedQueue } from '../../src/inspector.js'
import { delay, makeQueue } from './fixtures/queue.js'
import type { JobHandle } from '../../src/index.js'

const mounted: OffthreadInspector[] = []

afterEach(() => {
  // Before the fixture deletes the databases: an observer queue of an element holds one open.
  for (const el of mounted.splice(0)) el.remove()
})

function mount(setup: (el: OffthreadInspector) => void): OffthreadInspector {
  const el = document.createElement('offthread-inspector')
  setup(el)
  document.body.append(el)
  mounted.push(el)
  return el
}

const shadow = (el: OffthreadInspector): ShadowRoot => el.shadowRoot as ShadowRoot
const q = <E extends Element = HTMLElement>(el: OffthreadInspector, selector: string): E | null => shadow(el).querySelector<E>(selector)
const text = (el: OffthreadInspector, selector: string): string => q(el, selector)?.textContent ?? ''
const count = (el: OffthreadInspector, status: string): string => text(el, `.count[data-status="${status}"] .n`)
const rows = (el: OffthreadInspector): HTMLElement[] => [...shadow(el).querySelectorAll<HTMLElement>('.row')]
const row = (el: OffthreadInspector, index: number): HTMLElement | null => q(el, `.row[data-index="${index}"]`)
const detail = (el: OffthreadInspector): HTMLElement => q(el, '.detail') as HTMLElement
const button = (el: OffthreadInspector, name: 'cancel' | 'retry' | 'remove' | 'close'): HTMLButtonElement =>
  q<HTMLButtonElement>(el, `.detail .actions .${name}`) as HTMLButtonElement
/** Shown job ids, in order. */
const shownIds = (el: OffthreadInspector): string[] =>
  rows(el)
    .sort((a, b) => Number(a.dataset['index']) - Number(b.dataset['index']))
    .map((r) => r.querySelector('.id')?.textContent ?? '')
    .filter((id) => id !== '')

/** Clicks the row showing job `id` (once it shows). */
/** A queue with two completed `double` jobs, paused: what is added next stays waiting. */
async function twoCompletedThenPaused(): Promise<{ queue: ReturnType<typeof makeQueue>; doubles: ReadonlyArray<JobHandle<number>> }> {
  const queue = makeQueue()
  const doubles = await queue.addBulk([
    { name: 'double', data: 1 },
    { name: 'double', data: 2 },
  ])
  await Promise.all(doubles.map((j) => j.result()))
  queue.pause()
  return { queue, doubles }
}

async function openRow(el: OffthreadInspector, id: string): Promise<void> {
  await expect.poll(() => shownIds(el)).toContain(id)
  rows(el)
    .find((r) => r.querySelector('.id')?.textContent === id)
    ?.click()
  await expect.poll(() => text(el, '.detail .sub')).toBe(id)
  expect(detail(el).hidden).toBe(false)
}

describe('<offthread-inspector>', () => {
  it('defines the element; it shows the counts per status and follows them live', async () => {
    expect(customElements.get('offthread-inspector')).toBe(OffthreadInspector)
    const queue = makeQueue({ autostart: false })
    const jobs = await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'double', data: 2 },
      { name: 'double', data: 3 },
    ])
    const el = mount((el) => (el.queue = queue))
    expect(el.queue).toBe(queue)
    expect(text(el, '.title')).toBe(queue.name)
    await expect.poll(() => count(el, 'waiting')).toBe('3')
    expect(count(el, 'completed')).toBe('0')
    await expect.poll(() => text(el, '.total')).toBe('3 jobs')
    // Newest first.
    await expect.poll(() => shownIds(el)).toEqual(jobs.map((j) => j.id).reverse())

    queue.start()
    await Promise.all(jobs.map((job) => job.result()))
    await expect.poll(() => count(el, 'completed')).toBe('3')
    expect(count(el, 'waiting')).toBe('0')
    await expect.poll(() => rows(el).map((r) => r.querySelector('.badge')?.textContent)).toEqual(['completed', 'completed', 'completed'])
    // The throughput counts 'completed' events (3 within the first second or so).
    await expect.poll(() => text(el, '.rate'), { timeout: 3000 }).toMatch(/^[1-9]\d*\.\d jobs\/s$/)
  })

  it('re-reads the counts after changes, but not after every one: reads start at least 200 ms apart', async () => {
    const queue = makeQueue({ worker: undefined })
    const starts: number[] = []
    const counts = queue.counts.bind(queue)
    queue.counts = () => (starts.push(performance.now()), counts())
    const el = mount((el) => (el.queue = queue))
    const begin = performance.now()
    for (let i = 0; i < 40; i++) await queue.add('double', i)
    await expect.poll(() => count(el, 'waiting')).toBe('40')
    const elapsed = performance.now() - begin
    expect(starts.length).toBeGreaterThan(0)
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 2)
    for (let i = 1; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(199)
  })

  it("a failed job's detail shows its error with the stack and cause, and every attempt's error", async () => {
    const queue = makeQueue()
    const job = await queue.add('fail', 'broken widget', { retry: { attempts: 2, backoff: 'fixed', delay: 1, jitter: false } })
    await expect(job.result()).rejects.toThrow()
    const el = mount((el) => (el.queue = queue))
    await openRow(el, job.id)

    await expect.poll(() => text(el, '.detail .error-section .message')).toBe('CustomError: broken widget')
    const stack = text(el, '.detail .error-section .stack')
    expect(stack).toBe((await queue.getJob(job.id))?.error?.stack)
    expect(stack).toContain('tasks.worker')
    expect(text(el, '.detail .error-section')).toContain('Caused by RangeError: inner cause')
    expect(text(el, '.detail .error-section')).toContain('code E_CUSTOM')
    expect(q(el, '.detail .error-section')?.hidden).toBe(false)
    expect(q(el, '.detail .result-section')?.hidden).toBe(true)

    const records = await job.errors()
    expect(records.map((r) => r.attempt)).toEqual([1, 2])
    await expect.poll(() => shadow(el).querySelectorAll('.detail .attempts > li').length).toBe(2)
    const attempts = [...shadow(el).querySelectorAll('.detail .attempts > li')].map((li) => li.textContent ?? '')
    for (const [i, record] of records.entries()) {
      expect(attempts[i]).toContain(`Attempt ${record.attempt}`)
      expect(attempts[i]).toContain(`${record.name}: ${record.message}`)
      expect(attempts[i]).toContain(record.stack ?? '')
    }
    expect(text(el, '.detail .input')).toBe('"broken widget"')
    expect(button(el, 'retry').disabled).toBe(false)
    expect(button(el, 'cancel').disabled).toBe(true)
    // The sections shown (a job without durable steps has no such section; one with them: see below).
    const shown = [...shadow(el).querySelectorAll('.detail h3')].filter((h) => !h.closest<HTMLElement>('section')?.hidden)
    expect(shown.map((h) => h.textContent)).toEqual(['Input', 'Error', 'Failed attempts', 'Log'])
  })

  it('a job of a batch task says what batch its run was in', async () => {
    const queue = makeQueue()
    const jobs = await queue.addBulk([1, 2, 3].map((n) => ({ name: 'batched' as const, data: { n } })))
    await Promise.all(jobs.map((job) => job.result()))
    const el = mount((el) => (el.queue = queue))
    await openRow(el, (jobs[1] as JobHandle).id)
    const fields = [...shadow(el).querySelectorAll('.detail dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])
    expect(fields).toContainEqual(['Batch', 'ran in a batch of 3 (one call of the handler)'])
  })

  it('shows a completed job’s result and its log; a big binary input as its type and size', async () => {
    const queue = makeQueue()
    const reported = await queue.add('report', 3)
    await reported.result()
    const buf = new ArrayBuffer(8 * 1024 * 1024)
    const paused = makeQueue({ autostart: false })
    const big = await paused.add('buffer', { buf })
    const el = mount((el) => (el.queue = queue))
    await openRow(el, reported.id)
    await expect.poll(() => text(el, '.detail .result')).toBe('"reported"')
    await expect
      .poll(() => [...shadow(el).querySelectorAll('.detail .logs .message-text')].map((m) => m.textContent))
      .toEqual(['step 1', 'step 2', 'step 3', 'almost done'])
    expect(text(el, '.detail .logs')).toContain('{ i: 1 }')

    el.queue = paused
    await openRow(el, big.id)
    await expect.poll(() => text(el, '.detail .input')).toMatch(/^\{ buf: ArrayBuffer \{ byteLength: 8.?388.?608 \} \}$/)
  })

  it('a job waiting for the network says so in its row and its detail', async () => {
    const queue = makeQueue()
    expect(await (await queue.add('echo', 'warm')).result()).toBe('warm')
    dispatchEvent(new Event('offline'))
    try {
      const net = await queue.add('net', { open: 'later' })
      const el = mount((el) => (el.queue = queue))
      await openRow(el, net.id)
      const row = (): HTMLElement | undefined => rows(el).find((r) => r.querySelector('.id')?.textContent === net.id)
      await expect.poll(() => row()?.querySelector('.badge')?.textContent).toBe('waiting (network)')
      expect(row()?.querySelector('.badge')?.getAttribute('title')).toMatch(/needs the network/)
      await expect.poll(() => text(el, '.detail')).toContain('the network (the browser running the queue is offline')
    } finally {
      dispatchEvent(new Event('online'))
    }
  })

  it('a job asleep, and one waiting for a signal, say so in their row and detail', async () => {
    const queue = makeQueue()
    const napper = await queue.add('napper', 60_000)
    const waiter = await queue.add('waiter', { signal: 'approved' })
    await expect.poll(() => [napper.getSnapshot().waitingFor, waiter.getSnapshot().waitingFor]).toEqual(['sleep', 'signal'])
    const el = mount((el) => (el.queue = queue))
    const row = (id: string): HTMLElement | undefined => rows(el).find((r) => r.querySelector('.id')?.textContent === id)
    await expect.poll(() => row(napper.id)?.querySelector('.badge')?.textContent).toBe('delayed (asleep)')
    await expect.poll(() => row(waiter.id)?.querySelector('.badge')?.textContent).toBe('delayed (signal)')
    await openRow(el, waiter.id)
    await expect.poll(() => text(el, '.detail')).toContain('signal "approved" (ctx.waitFor): queue.signal(id, "approved", payload) wakes it')
    expect(text(el, '.detail')).not.toContain('Runs at')
    await openRow(el, napper.id)
    await expect.poll(() => text(el, '.detail')).toContain('its time: its handler sleeps (ctx.sleep')
    await queue.signal(waiter.id, 'approved', 1)
    await expect.poll(() => row(waiter.id)?.querySelector('.badge')?.textContent).toBe('completed')
  })

  it("a job's group shows in its row and detail; a job of a paused group says it waits for its group", async () => {
    const queue = makeQueue()
    await queue.groups.pause('album-7')
    const held = await queue.add('echo', 'held', { group: 'album-7' })
    // Ran after the held job came up: the held one has been looked at (and parked) by then.
    expect(await (await queue.add('echo', 'free', { group: 'album-8' })).result()).toBe('free')
    const el = mount((el) => (el.queue = queue))
    await openRow(el, held.id)
    const row = (): HTMLElement | undefined => rows(el).find((r) => r.querySelector('.id')?.textContent === held.id)
    await expect.poll(() => row()?.querySelector('.badge')?.textContent).toBe('waiting (group)')
    expect(row()?.querySelector('.badge')?.getAttribute('title')).toMatch(/its group is paused/)
    expect(row()?.querySelector('.name')?.textContent).toBe('echo · album-7')
    await expect.poll(() => text(el, '.detail')).toContain('its group (album-7) to be resumed')
    expect(text(el, '.detail')).toContain('Groupalbum-7')
    await queue.groups.resume('album-7')
    await expect(held.result()).resolves.toBe('held')
  })

  it('a job with durable steps shows each stored step and its result; a job without shows no such section', async () => {
    const queue = makeQueue()
    const stepped = await queue.add('stepped', { steps: 3, failAt: 2 }, { retry: { attempts: 2, delay: 0 } })
    const plain = await queue.add('double', 2)
    await Promise.all([stepped.result(), plain.result()])
    expect(await stepped.steps()).toEqual({ s1: 10, s2: 20, s3: 30 })
    const el = mount((el) => (el.queue = queue))
    await openRow(el, stepped.id)
    await expect.poll(() => [...shadow(el).querySelectorAll('.detail .steps dt')].map((dt) => dt.textContent)).toEqual(['s1', 's2', 's3'])
    expect([...shadow(el).querySelectorAll('.detail .steps dd')].map((dd) => dd.textContent)).toEqual(['10', '20', '30'])
    expect(q(el, '.detail .steps-section')?.hidden).toBe(false)
    await openRow(el, plain.id)
    await expect.poll(() => q(el, '.detail .steps-section')?.hidden).toBe(true)
  })

  it('the cancel, retry and remove buttons change the job in the store', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 20_000)
    await expect.poll(() => job.status).toBe('running')
    const el = mount((el) => (el.queue = queue))
    await openRow(el, job.id)
    await expect.poll(() => button(el, 'cancel').disabled).toBe(false)
    expect(button(el, 'retry').disabled).toBe(true)

    button(el, 'cancel').click()
    await expect.poll(async () => (await queue.getJob(job.id))?.status).toBe('cancelled')
    await expect.poll(() => text(el, '.detail .heading')).toBe('sleep · cancelled')
    await expect.poll(() => button(el, 'retry').disabled).toBe(false)
    expect(text(el, '.announce')).toBe(`Cancelled job ${job.id}`)

    button(el, 'retry').click()
    await expect.poll(async () => (await queue.list({ status: ['waiting', 'running'] })).map((j) => j.id)).toEqual([job.id])
    await expect.poll(() => text(el, '.detail .heading')).toMatch(/^sleep · (waiting|running)$/)

    await expect.poll(() => button(el, 'remove').disabled).toBe(false)
    button(el, 'remove').click()
    await expect.poll(async () => queue.getJob(job.id)).toBeUndefined()
    await expect.poll(() => detail(el).hidden).toBe(true)
    await expect.poll(() => shownIds(el)).toEqual([])
    expect(await queue.list()).toEqual([])
  })

  it('name= shows the page’s open queue of that name', async () => {
    const queue = makeQueue({ autostart: false, replace: true })
    const job = await queue.add('double', 1)
    const el = mount((el) => el.setAttribute('name', queue.name))
    expect(el.queue).toBe(queue)
    await expect.poll(() => shownIds(el)).toEqual([job.id])
    el.remove()
    // Not its own queue: it stays open.
    await expect(queue.counts()).resolves.toMatchObject({ waiting: 1 })
  })

  it('name= of a queue not open here observes through a queue of its own that runs nothing, closed on disconnect', async () => {
    // The jobs' queue has no worker either: nothing in this page may run them, unless the inspector did.
    const queue = makeQueue({ worker: undefined })
    const jobs = await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'echo', data: 'x' },
    ])
    const el = mount((el) => el.setAttribute('name', queue.name))
    const observer = el.queue as InspectedQueue
    expect(observer).not.toBe(queue)
    expect(observer.name).toBe(queue.name)
    await expect.poll(() => shownIds(el)).toEqual(jobs.map((j) => j.id).reverse())
    await expect.poll(() => count(el, 'waiting')).toBe('2')
    expect(text(el, '.role')).toBe('another tab runs the queue')
    await delay(300)
    expect((await queue.list()).map((j) => j.status)).toEqual(['waiting', 'waiting'])
    expect(observer.role).toBe('follower')

    el.remove()
    expect(el.queue).toBeUndefined()
    await expect(observer.list()).rejects.toThrow(/closed/)
    // Back in the page: a new observer.
    document.body.append(el)
    expect(el.queue).not.toBe(observer)
    await expect.poll(() => shownIds(el)).toEqual(jobs.map((j) => j.id).reverse())
  })

  it('from markup (upgraded with name=): one set of listeners while connected, none once disconnected', async () => {
    const queue = makeQueue({ autostart: false, replace: true })
    const active = new Map<string, number>()
    const on = queue.on.bind(queue)
    queue.on = ((event: any, listener: any) => {
      active.set(event, (active.get(event) ?? 0) + 1)
      const off = on(event, listener)
      return () => {
        active.set(event, (active.get(event) ?? 0) - 1)
        off()
      }
    }) as typeof queue.on
    const job = await queue.add('double', 1)
    const host = document.createElement('div')
    document.body.append(host)
    host.innerHTML = `<offthread-inspector name="${queue.name}"></offthread-inspector>`
    const el = host.firstElementChild as OffthreadInspector
    mounted.push(el)
    expect(el).toBeInstanceOf(OffthreadInspector)
    await expect.poll(() => shownIds(el)).toEqual([job.id])
    // The list's listeners and the counts' (and the throughput's 'completed'): one set, not one per start.
    expect(Object.fromEntries(active)).toEqual({
      added: 2,
      started: 2,
      retrying: 2,
      requeued: 2,
      completed: 3,
      failed: 2,
      cancelled: 2,
      progress: 1,
      role: 2,
      removed: 2,
    })
    host.remove()
    expect([...active.values()].every((n) => n === 0)).toBe(true)
  })

  it('filters by status (the count buttons) and by task name', async () => {
    const { queue, doubles } = await twoCompletedThenPaused()
    const echoes = await queue.addBulk([
      { name: 'echo', data: 1 },
      { name: 'echo', data: 2 },
      { name: 'echo', data: 3 },
    ])
    const el = mount((el) => (el.queue = queue))
    await expect.poll(() => text(el, '.total')).toBe('5 jobs')

    q(el, '.count[data-status="completed"]')?.click()
    expect(q(el, '.count[data-status="completed"]')?.getAttribute('aria-pressed')).toBe('true')
    await expect.poll(() => shownIds(el)).toEqual(doubles.map((j) => j.id).reverse())
    expect(text(el, '.total')).toBe('2 jobs')
    q(el, '.count.all')?.click()
    await expect.poll(() => shownIds(el)).toHaveLength(5)

    const input = q<HTMLInputElement>(el, '.task input') as HTMLInputElement
    input.value = 'echo'
    input.dispatchEvent(new Event('change'))
    await expect.poll(() => shownIds(el)).toEqual(echoes.map((j) => j.id).reverse())
    // By task there is no count: the list found its end (a read that came back short).
    expect(text(el, '.total')).toBe('3 jobs')
    q(el, '.count[data-status="completed"]')?.click()
    await expect.poll(() => text(el, '.total')).toBe('0 jobs')
    await expect.poll(() => q(el, '.empty')?.hidden).toBe(false)
    expect(text(el, '.empty')).toBe('No jobs')
    expect(rows(el)).toEqual([])
  })

  it('a filter changed while a read is under way is read as soon as that read ends (CI saw the list stay empty)', async () => {
    const { queue, doubles } = await twoCompletedThenPaused()
    await queue.add('echo', 1)
    // Reads are slow (a busy machine): the first one is still under way when the filter changes.
    const list = queue.list.bind(queue)
    let reads = 0
    Object.defineProperty(queue, 'list', {
      value: async (...args: Parameters<typeof queue.list>) => {
        reads++
        await new Promise((resolve) => setTimeout(resolve, 300))
        return list(...args)
      },
    })
    const el = mount((el) => (el.queue = queue))
    await expect.poll(() => reads).toBeGreaterThan(0)
    q(el, '.count[data-status="completed"]')?.click()
    // No event comes (the queue is paused): only the end of the first read can start the next.
    await expect.poll(() => shownIds(el), { timeout: 2_000 }).toEqual(doubles.map((j) => j.id).reverse())
  })

  it('virtualises: 2,000 jobs keep few rows in the DOM, and a scroll shows the rows at that offset', async () => {
    const queue = makeQueue({ worker: undefined })
    const jobs = await queue.addBulk(Array.from({ length: 2000 }, (_, i) => ({ name: 'double' as const, data: i })))
    const ids = jobs.map((j) => j.id)
    let reads = 0
    const list = queue.list.bind(queue)
    queue.list = (options) => (reads++, list(options))
    const el = mount((el) => (el.queue = queue))
    await expect.poll(() => text(el, '.total')).toBe(`${(2000).toLocaleString()} jobs`)
    // Newest first: row i shows the job added (2000 - 1 - i)th.
    await expect.poll(() => row(el, 0)?.textContent).toContain(ids[1999])
    const listbox = q(el, '[role="listbox"]') as HTMLElement
    expect(listbox.scrollHeight).toBe(2000 * ROW_HEIGHT)
    expect(rows(el).length).toBeGreaterThan(5)
    expect(rows(el).length).toBeLessThan(100)

    listbox.scrollTop = 1000 * ROW_HEIGHT
    await expect.poll(() => row(el, 1000)?.textContent).toContain(ids[999])
    expect(row(el, 1000)?.getAttribute('aria-posinset')).toBe('1001')
    expect(row(el, 1000)?.getAttribute('aria-setsize')).toBe('2000')
    expect(rows(el).length).toBeLessThan(100)
    expect(row(el, 0)).toBeNull()

    listbox.scrollTop = listbox.scrollHeight
    await expect.poll(() => row(el, 1999)?.textContent).toContain(ids[0])
    expect(rows(el).length).toBeLessThan(100)
    // A window per view, not a read per row.
    expect(reads).toBeLessThan(20)

    // Removed from the page, it reads no more.
    el.remove()
    const before = reads
    await queue.add('double', 1)
    await delay(250)
    expect(reads).toBe(before)
  })

  it('keyboard: arrows move the active row (aria-activedescendant), Enter opens it, Escape closes', async () => {
    const queue = makeQueue({ worker: undefined })
    const jobs = await queue.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'double' as const, data: i })))
    const el = mount((el) => (el.queue = queue))
    const listbox = q(el, '[role="listbox"]') as HTMLElement
    await expect.poll(() => row(el, 0)?.textContent).toContain(jobs[39]?.id)
    listbox.focus()
    expect(listbox.getAttribute('aria-activedescendant')).toBe('row-0')
    const key = (key: string, target: Element = listbox): void => {
      target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, composed: true, cancelable: true }))
    }
    key('ArrowDown')
    key('ArrowDown')
    key('ArrowUp')
    expect(listbox.getAttribute('aria-activedescendant')).toBe('row-1')
    expect(row(el, 1)?.getAttribute('aria-selected')).toBe('true')
    key('End')
    expect(listbox.getAttribute('aria-activedescendant')).toBe('row-39')
    // The active row is scrolled into view.
    await expect.poll(() => row(el, 39)?.textContent).toContain(jobs[0]?.id)
    key('Enter')
    await expect.poll(() => text(el, '.detail .sub')).toBe(jobs[0]?.id)
    expect(shadow(el).activeElement).toBe(q(el, '.detail .heading'))
    key('Escape', q(el, '.detail .heading') as Element)
    expect(detail(el).hidden).toBe(true)
    expect(shadow(el).activeElement).toBe(listbox)
  })
})

describe('the inspector’s pieces', () => {
  it('preview() bounds what it shows of any value', () => {
    expect(preview(new ArrayBuffer(16 * 1024 * 1024))).toMatch(/^ArrayBuffer \{ byteLength: 16.?777.?216 \}$/)
    expect(preview(new Uint8Array([1, 2, 3]))).toBe('Uint8Array(3) { byteLength: 3 } [1, 2, 3]')
    const long = 'x'.repeat(1_000_000)
    expect(preview(long).length).toBeLessThan(500)
    expect(preview(long)).toContain('characters)')
    const many = Array.from({ length: 1_000_000 }, (_, i) => i)
    expect(preview(many)).toContain('more')
    expect(preview(many).length).toBeLessThan(500)
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic['self'] = cyclic
    expect(preview(cyclic)).toBe('{ a: 1, self: [Circular] }')
    expect(preview({ a: { b: { c: { d: { e: 1 } } } } })).toContain('{…}')
    expect(preview(new Map([['k', 1]]))).toBe('Map(1) { "k" => 1 }')
    expect(preview(new Blob(['abc'], { type: 'text/plain' }))).toBe('Blob { type: "text/plain", size: 3 }')
    expect(preview(null)).toBe('null')
    expect(preview(12n)).toBe('12n')
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v'.repeat(50)]))
    expect(preview(wide).length).toBeLessThanOrEqual(4001)
  })

  it('past the height engines allow, the scroll position maps to rows by proportion', () => {
    const count = 1_000_000
    const view = 400
    const top = geometry(count, 0, view)
    expect(top.height).toBe(MAX_SCROLL_HEIGHT)
    expect(top.first).toBe(0)
    const bottom = geometry(count, MAX_SCROLL_HEIGHT - view, view)
    // The last row ends at the bottom of the view.
    expect(bottom.top(count - 1) + ROW_HEIGHT).toBeCloseTo(MAX_SCROLL_HEIGHT, 6)
    const middle = geometry(count, scrollTopFor(500_000, count, view), view)
    expect(middle.first).toBeCloseTo(500_000, 6)
    // Below the cap, one row per ROW_HEIGHT px.
    expect(geometry(1000, 280, view).first).toBe(10)
    expect(geometry(1000, 0, view).height).toBe(1000 * ROW_HEIGHT)
  })
})
