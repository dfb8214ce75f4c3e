/**
 * The inspector's job list, virtualised: only the rows in view (and a few
 * either side) are in the DOM, and only a window of jobs around them is in
 * memory, read with one indexed `list({ offset, limit })` at a time. A
 * 100,000-job queue scrolls as a 100-job one does: each frame positions a
 * few dozen rows (CSSOM `transform` writes, which a strict CSP allows) and
 * asks for at most one window. The rows themselves (where each goes, what it shows,
 * their elements reused) are rows.ts's.
 *
 * Keyboard: the list is one focusable listbox; the active row is its
 * `aria-activedescendant` (rows come and go as it scrolls, focus stays put).
 * Arrows, Page Up/Down, Home and End move; Enter or Space opens the row.
 *
 * Cost: an update never reads layout. Reading `scrollTop` (or a size) after the page
 * changed forces a synchronous layout of the whole page: inside a React render that
 * mounts the inspector it took 20–86 ms, and in a hidden tab, where nothing else lays the
 * page out, 28–29 ms per update. The scroll position is read in the `scroll` event and the
 * view's height comes from a ResizeObserver (both after the browser's own layout), and
 * kept; `scrollTop` is written only by a filter change or the keyboard, and only when it
 * moves. While the tab is hidden the list renders nothing and reads nothing: it catches
 * up when the tab is shown again.
 */
import { FrameBatch } from '../../shared/frame.js'
import type { JobSnapshot } from '../../shared/types.js'
import { h, isClosedError, pageHidden } from './dom.js'
import { geometry, Rows, scrollTopFor, type Geometry } from './rows.js'
import { ROW_HEIGHT } from './styles.js'

/** Rows rendered beyond each edge of the view. */
const OVERSCAN = 6
/** The least time between two re-reads that a change of the jobs (not a scroll) asks for, in ms. */
const REFRESH_INTERVAL = 100
/**
 * And at least this many times what the last read took: a window far down a big store
 * costs a count and a long `advance` (about a second at 100,000 jobs on Chromium's
 * on-disk IndexedDB), which must not keep the database busy while jobs flow.
 */
const REFRESH_COST_FACTOR = 4

/** What the list reads jobs with, and tells its owner. */
export interface JobListHost {
  /** Tells that the row of `job` (at `index`) was opened (Enter, Space, a click). */
  open(job: JobSnapshot, index: number): void
  /** The number of jobs the list shows changed: `exact` false while the end is not known yet. */
  total(count: number, exact: boolean): void
}

/** Reads the jobs at `offset`, at most `limit` of them, newest first. */
export type Fetch = (offset: number, limit: number) => Promise<readonly JobSnapshot[]>

/** The virtualised list: its element is the scroll container and the listbox. */
export class JobList {
  readonly element: HTMLDivElement
  #host: JobListHost
  /** What the listbox holds: the rows in view (their elements reused), the spacer, the empty note. */
  #rows: Rows
  #fetch: Fetch | undefined
  /** The total the owner gave (the counts), or undefined when the list finds its end itself. */
  #known: number | undefined = 0
  /** Without a known total: rows known to exist, the end once found, whether there may be more. */
  #bound = 0
  #end: number | undefined
  #more = true
  /** The window of jobs in memory: rows [#start, #start + #jobs.length); rows up to #loadedTo were asked for. */
  #start = 0
  #jobs: readonly JobSnapshot[] = []
  #loadedTo = 0
  #loaded = false
  /** Bumped when the filter changes: answers of older reads are dropped. */
  #generation = 0
  #reading = false
  /** A read is needed although the window covers the view: the jobs changed. */
  #stale = false
  #failed = false
  #refreshTimer: ReturnType<typeof setTimeout> | undefined
  #lastRefresh = 0
  /** How long the last read took, ms. */
  #readCost = 0
  #active = -1
  #frame = new FrameBatch(() => this.#update())
  #resize: ResizeObserver | undefined
  /** The view's height in px, as the ResizeObserver last told it (0: not told yet). */
  #viewportPx = 0
  /** The scroll position, as the last `scroll` event found it or the list last set it. */
  #scrollTop = 0
  /** An update was skipped while the tab was hidden: run it when the tab is shown. */
  #skipped = false
  /** The total is to be told at the next update (not in `reset`: see there). */
  #totalStale = false
  #onVisibility = (): void => {
    if (!pageHidden() && this.#skipped) this.#frame.schedule()
  }

  constructor(host: JobListHost, label: string) {
    this.#host = host
    this.element = h('div', { class: 'list', attrs: { role: 'listbox', tabindex: '0', 'aria-label': label } })
    this.#rows = new Rows(this.element)
    this.element.addEventListener('scroll', () => this.#onScroll(), { passive: true })
    this.element.addEventListener('keydown', (event) => this.#onKey(event))
    this.element.addEventListener('focus', () => this.#onFocus())
    this.element.addEventListener('click', (event) => this.#onClick(event))
  }

  /** How many row elements are in the DOM now. */
  get renderedRows(): number {
    return this.#rows.size
  }

  /** The active row's index (-1 for none). */
  get activeIndex(): number {
    return this.#active
  }

  /**
   * Shows the jobs `fetch` reads: from the top, with `total` rows (undefined: the
   * list pages forward to find the end). Called on attach and when the filter changes.
   */
  reset(fetch: Fetch, total: number | undefined): void {
    this.#generation++
    this.#fetch = fetch
    this.#known = total
    this.#bound = 0
    this.#end = undefined
    this.#more = true
    this.#start = 0
    this.#jobs = []
    this.#loadedTo = 0
    this.#loaded = false
    this.#stale = true
    this.#failed = false
    this.#active = -1
    this.#scrollTo(0)
    if (!this.#resize && typeof ResizeObserver === 'function') {
      this.#resize = new ResizeObserver((entries) => {
        const height = entries[entries.length - 1]?.contentRect.height
        if (height !== undefined) this.#viewportPx = height
        this.#frame.schedule()
      })
      this.#resize.observe(this.element)
    }
    // Added once however often called (the same listener).
    document.addEventListener('visibilitychange', this.#onVisibility)
    // Told at the next frame, not here in the element's connectedCallback (a framework's render): the page's
    // first number format sets up its locale data (see dom.ts prepareFormats).
    this.#totalStale = true
    this.#frame.schedule()
  }

  /** The owner's new total (the counts changed); ignored while the list finds its end itself. */
  setTotal(total: number): void {
    if (this.#known === undefined || this.#known === total) return
    this.#known = total
    this.#tellTotal()
    this.#frame.schedule()
  }

  /** Stops reading and empties the DOM (the element was disconnected). */
  detach(): void {
    this.#generation++
    this.#fetch = undefined
    clearTimeout(this.#refreshTimer)
    this.#refreshTimer = undefined
    this.#resize?.disconnect()
    this.#resize = undefined
    document.removeEventListener('visibilitychange', this.#onVisibility)
    this.#rows.clear()
    this.#jobs = []
    this.#loaded = false
  }

  /** The jobs changed (an event): re-read the window, at most every {@link REFRESH_INTERVAL} ms. */
  invalidate(): void {
    if (!this.#fetch || this.#refreshTimer !== undefined) return
    const spacing = Math.max(REFRESH_INTERVAL, REFRESH_COST_FACTOR * this.#readCost)
    const wait = Math.max(0, this.#lastRefresh + spacing - performance.now())
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined
      this.#lastRefresh = performance.now()
      this.#stale = true
      this.#failed = false
      this.#frame.schedule()
    }, wait)
  }

  /** New progress of job `id`: patched into the window in memory, no re-read. */
  progress(id: string, progress: JobSnapshot['progress']): void {
    const i = this.#jobs.findIndex((job) => job.id === id)
    const job = this.#jobs[i]
    if (!job || job.status !== 'running' || job.progress === progress) return
    const jobs = [...this.#jobs]
    jobs[i] = { ...job, progress }
    this.#jobs = jobs
    this.#frame.schedule()
  }

  /** Focuses the list (after the detail closes). */
  focus(): void {
    this.element.focus({ preventScroll: true })
  }

  /** The number of rows laid out: the total, or what is known of it. */
  get #count(): number {
    if (this.#known !== undefined) return this.#known
    if (this.#end !== undefined) return this.#end
    // Not known yet: the rows found, and a page more to scroll into while there may be more.
    return this.#bound + (this.#more ? this.#page * 2 : 0)
  }

  /** The view's height: until the ResizeObserver tells it (after the first layout), ten rows' worth. */
  get #viewport(): number {
    return this.#viewportPx || 10 * ROW_HEIGHT
  }

  /** Rows in one view. */
  get #page(): number {
    return Math.ceil(this.#viewport / ROW_HEIGHT)
  }

  #tellTotal(): void {
    this.#totalStale = false
    if (this.#known !== undefined) this.#host.total(this.#known, true)
    else this.#host.total(this.#end ?? this.#bound, this.#end !== undefined)
  }

  /** The user scrolled (or the list did): the position is read here, after the browser's layout, and kept. */
  #onScroll(): void {
    this.#scrollTop = this.element.scrollTop
    this.#frame.schedule()
  }

  /** Scrolls to `top` px: a write forces a layout, so only when the position moves. */
  #scrollTo(top: number): void {
    if (top === this.#scrollTop) return
    this.#scrollTop = top
    this.element.scrollTop = top
  }

  /** One frame's work: lay out the rows in view, and read the window if it does not cover them (or is stale). */
  #update(): void {
    if (!this.#fetch) return
    // Hidden, nobody sees the rows: no DOM work, no store read; the first frame once shown does both.
    this.#skipped = pageHidden()
    if (this.#skipped) return
    if (this.#totalStale) this.#tellTotal()
    const count = this.#count
    const viewport = this.#viewport
    const layout = geometry(count, this.#scrollTop, viewport)
    const first = Math.floor(layout.first)
    const from = Math.max(0, Math.min(count, first - OVERSCAN))
    const to = Math.max(0, Math.min(count, first + this.#page + 1 + OVERSCAN))
    if (this.#active >= count) this.#active = count - 1
    this.#render(from, to, layout, count)
    const covered = from >= this.#start && to <= this.#loadedTo
    if ((this.#stale || !covered) && !this.#failed) this.#read(from, to)
  }

  /** Reads the window around rows [from, to): one read at a time; the next frame asks again if the view moved. */
  #read(from: number, to: number): void {
    const fetch = this.#fetch
    if (!fetch || this.#reading) return
    const pad = this.#page
    const offset = Math.max(0, from - pad)
    const limit = Math.max(to + pad - offset, 2 * pad)
    const generation = this.#generation
    this.#reading = true
    this.#stale = false
    const start = performance.now()
    fetch(offset, limit)
      .then(
        (jobs) => {
          this.#readCost = performance.now() - start
          if (generation !== this.#generation) return
          this.#start = offset
          this.#jobs = jobs
          this.#loadedTo = offset + limit
          this.#loaded = true
          if (this.#known === undefined) this.#found(offset, limit, jobs.length)
        },
        (error: unknown) => {
          if (generation !== this.#generation) return
          // Stop asking until something changes (a closed queue would fail every frame).
          this.#failed = true
          if (!isClosedError(error) && typeof reportError === 'function') reportError(error)
        },
      )
      .finally(() => {
        this.#reading = false
        // Also after a read of an older filter: the new filter's read waited for this one to end.
        this.#frame.schedule()
      })
      .catch(() => undefined)
  }

  /** Without a known total: what a read of `limit` rows at `offset` that got `got` says of the end. */
  #found(offset: number, limit: number, got: number): void {
    if (got < limit) {
      if (got > 0 || offset === 0) {
        this.#end = offset + got
        this.#bound = this.#end
      } else {
        // Nothing at `offset`: the end is before it (jobs were removed). Shrink; the next frame reads nearer.
        this.#end = undefined
        this.#bound = Math.min(this.#bound, offset)
      }
      this.#more = false
    } else {
      this.#bound = Math.max(this.#bound, offset + got)
      if (this.#end !== undefined && offset + got > this.#end) this.#end = undefined
      this.#more = this.#end === undefined
    }
    this.#tellTotal()
  }

  /** Draws rows [from, to) of `layout` (and the spacer, the empty note, the active row). */
  #render(from: number, to: number, layout: Geometry, count: number): void {
    const exact = this.#known !== undefined || this.#end !== undefined
    // Not while the counts are behind a read that found jobs.
    const empty = this.#loaded && count === 0 && this.#jobs.length === 0
    this.#rows.render(layout, from, to, exact ? String(count) : '-1', this.#active, (index) => this.#jobAt(index), empty)
  }

  /** The job of row `index`, if it is in the window (null: read, and there is none; undefined: not read yet). */
  #jobAt(index: number): JobSnapshot | null | undefined {
    if (index < this.#start || index >= this.#loadedTo) return undefined
    return this.#jobs[index - this.#start] ?? null
  }

  #onFocus(): void {
    if (this.#active >= 0 && this.#rows.has(this.#active)) return
    if (this.#count === 0) return
    this.#setActive(Math.ceil(geometry(this.#count, this.#scrollTop, this.#viewport).first))
  }

  #onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return
    const count = this.#count
    if (count === 0) return
    const page = Math.max(1, this.#page - 1)
    const active = this.#active < 0 ? -1 : this.#active
    let next: number
    switch (event.key) {
      case 'ArrowDown':
        next = active + 1
        break
      case 'ArrowUp':
        next = active - 1
        break
      case 'PageDown':
        next = active + page
        break
      case 'PageUp':
        next = active - page
        break
      case 'Home':
        next = 0
        break
      case 'End':
        next = count - 1
        break
      case 'Enter':
      case ' ': {
        event.preventDefault()
        const job = this.#jobAt(this.#active)
        if (job) this.#host.open(job, this.#active)
        return
      }
      default:
        return
    }
    event.preventDefault()
    this.#setActive(Math.max(0, Math.min(count - 1, next)))
  }

  #onClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target.closest('.row') : null
    if (!(target instanceof HTMLElement)) return
    const index = Number(target.dataset['index'])
    if (!Number.isInteger(index)) return
    this.#setActive(index)
    const job = this.#jobAt(index)
    if (job) this.#host.open(job, index)
  }

  /** Makes row `index` the active one, scrolls it into view and draws it now (its element must exist for aria-activedescendant). */
  #setActive(index: number): void {
    this.#active = index
    const count = this.#count
    const viewport = this.#viewport
    const visible = viewport / ROW_HEIGHT
    const { first } = geometry(count, this.#scrollTop, viewport)
    if (index < first) this.#scrollTo(scrollTopFor(index, count, viewport))
    else if (index + 1 > first + visible) this.#scrollTo(scrollTopFor(index + 1 - visible, count, viewport))
    this.#update()
  }
}
