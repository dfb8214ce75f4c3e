/**
 * The inspector list's rows (list.ts decides which are in view and reads their jobs):
 * where each goes for a scroll position, and the listbox's content drawn from that: the
 * spacer that gives it its scroll height, the rows in view with their elements reused as
 * it scrolls, the note of an empty list. Each is written only where it changed (a row's
 * place, `aria-setsize`, `aria-selected` and cells): an update that moves nothing writes
 * nothing.
 */
import type { JobSnapshot } from '../../shared/types.js'
import { formatTime, h, setText } from './dom.js'
import { preview } from './preview.js'
import { ROW_HEIGHT } from './styles.js'

/** What a waiting job waits for, as its status cell's title says. */
const WAITS_FOR: Readonly<Record<string, string>> = {
  release: 'waits for a tab of a release that defines its task',
  network: 'needs the network: waits until the browser running the queue is online',
  sleep: 'asleep (ctx.sleep): runs again at its time, no worker held',
  signal: 'waits for a signal (ctx.waitFor): queue.signal wakes it, or its timeout',
}

/**
 * The tallest the scrolled content gets, in px: engines cap an element's height
 * (Firefox near 17.9 million px), so past this many rows' worth the scroll position
 * maps to a row index by proportion instead of one row per 28 px.
 */
export const MAX_SCROLL_HEIGHT = 4_000_000

/** Where rows go for a scroll position. */
export interface Geometry {
  /** The scrolled content's height, px. */
  height: number
  /** The row index at the top of the view (fractional: the top row may be partly hidden). */
  first: number
  /** The top of row `index`, px from the start of the scrolled content. */
  top(index: number): number
}

/** The layout of `count` rows seen through `viewport` px scrolled to `scrollTop`. */
export function geometry(count: number, scrollTop: number, viewport: number): Geometry {
  const natural = count * ROW_HEIGHT
  if (natural <= MAX_SCROLL_HEIGHT) return { height: natural, first: Math.max(0, scrollTop) / ROW_HEIGHT, top: (index) => index * ROW_HEIGHT }
  const maxScroll = Math.max(1, MAX_SCROLL_HEIGHT - viewport)
  const maxFirst = Math.max(0, count - viewport / ROW_HEIGHT)
  const scroll = Math.min(Math.max(0, scrollTop), maxScroll)
  const first = (scroll / maxScroll) * maxFirst
  return { height: MAX_SCROLL_HEIGHT, first, top: (index) => scroll + (index - first) * ROW_HEIGHT }
}

/** The scroll position that puts row `first` (fractional) at the top of the view: the inverse of {@link geometry}. */
export function scrollTopFor(first: number, count: number, viewport: number): number {
  if (count * ROW_HEIGHT <= MAX_SCROLL_HEIGHT) return first * ROW_HEIGHT
  const maxScroll = Math.max(1, MAX_SCROLL_HEIGHT - viewport)
  const maxFirst = Math.max(1, count - viewport / ROW_HEIGHT)
  return (Math.min(Math.max(0, first), maxFirst) / maxFirst) * maxScroll
}

interface Row {
  element: HTMLDivElement
  status: HTMLSpanElement
  name: HTMLSpanElement
  id: HTMLSpanElement
  attempt: HTMLSpanElement
  progress: HTMLSpanElement
  created: HTMLSpanElement
  /** What the row shows now (to skip rewriting an unchanged row). */
  shown: JobSnapshot | null | undefined
  /** Where it is drawn, and its `aria-setsize` and `aria-selected` as written (each written only when it changes). */
  top: number
  setsize: string
  selected: boolean
}

/** What a listbox holds: its spacer, its rows (those in the DOM by index, the others kept for reuse), its empty note. */
export class Rows {
  #listbox: HTMLElement
  #spacer: HTMLDivElement
  #empty: HTMLDivElement
  /** The spacer's height as written. */
  #height = -1
  /** Rows in the DOM, by index. */
  #rows = new Map<number, Row>()
  /** Rows out of the DOM, for reuse. */
  #pool: Row[] = []

  /** @param listbox - the element the rows go in (its spacer and empty note are added now) */
  constructor(listbox: HTMLElement) {
    this.#listbox = listbox
    this.#spacer = h('div', { class: 'spacer', attrs: { 'aria-hidden': 'true' } })
    this.#empty = h('div', { class: 'empty', text: 'No jobs', attrs: { role: 'presentation' } })
    this.#empty.hidden = true
    listbox.append(this.#spacer, this.#empty)
  }

  /** How many row elements are in the DOM. */
  get size(): number {
    return this.#rows.size
  }

  /** Whether row `index` is in the DOM (its element's id is `row-${index}`). */
  has(index: number): boolean {
    return this.#rows.has(index)
  }

  /**
   * Draws rows [from, to) of `layout`, each showing its job (null: none; undefined: not
   * read yet), and takes the others out; sets the scroll height, the empty note, and the
   * listbox's `aria-activedescendant` (the active row, if it is in the DOM).
   *
   * @param setsize - every row's `aria-setsize` (`'-1'`: the total is not known)
   * @param active - the index of the active row (`aria-selected`)
   * @param empty - whether to show that there are no jobs
   */
  render(
    layout: Geometry,
    from: number,
    to: number,
    setsize: string,
    active: number,
    jobAt: (index: number) => JobSnapshot | null | undefined,
    empty: boolean,
  ): void {
    if (layout.height !== this.#height) {
      this.#height = layout.height
      this.#spacer.style.height = `${layout.height}px`
    }
    for (const [index, row] of this.#rows) {
      if (index >= from && index < to) continue
      this.#rows.delete(index)
      row.element.remove()
      this.#pool.push(row)
    }
    for (let index = from; index < to; index++) {
      let row = this.#rows.get(index)
      if (!row) {
        row = this.#pool.pop() ?? makeRow()
        row.shown = undefined
        this.#rows.set(index, row)
        this.#listbox.append(row.element)
        row.element.id = `row-${index}`
        row.element.dataset['index'] = String(index)
        row.element.setAttribute('aria-posinset', String(index + 1))
      }
      place(row, layout.top(index), setsize, index === active)
      fill(row, jobAt(index))
    }
    if (this.#empty.hidden === empty) this.#empty.hidden = !empty
    const descendant = this.#rows.has(active) ? `row-${active}` : null
    if (this.#listbox.getAttribute('aria-activedescendant') !== descendant) {
      if (descendant) this.#listbox.setAttribute('aria-activedescendant', descendant)
      else this.#listbox.removeAttribute('aria-activedescendant')
    }
  }

  /** Takes every row out of the DOM (the list was detached). */
  clear(): void {
    for (const row of this.#rows.values()) row.element.remove()
    this.#rows.clear()
  }
}

/** Writes a row's position and state, each only when it changed. */
function place(row: Row, top: number, setsize: string, selected: boolean): void {
  if (row.top !== top) {
    row.top = top
    row.element.style.transform = `translateY(${top}px)`
  }
  if (row.setsize !== setsize) {
    row.setsize = setsize
    row.element.setAttribute('aria-setsize', setsize)
  }
  if (row.selected !== selected) {
    row.selected = selected
    row.element.setAttribute('aria-selected', String(selected))
  }
}

function makeRow(): Row {
  const cell = (cls: string): HTMLSpanElement => h('span', { class: cls })
  const row: Row = {
    element: h('div', { class: 'row', attrs: { role: 'option' } }),
    status: cell('badge'),
    name: cell('name'),
    id: cell('id'),
    attempt: cell('num attempt'),
    progress: cell('num progress'),
    created: cell('num created'),
    shown: undefined,
    top: NaN,
    setsize: '',
    selected: false,
  }
  row.element.append(row.status, row.name, row.id, row.attempt, row.progress, row.created)
  return row
}

function fill(row: Row, job: JobSnapshot | null | undefined): void {
  if (row.shown === job && job !== undefined) return
  row.shown = job
  row.element.classList.toggle('loading', !job)
  if (!job) {
    row.status.removeAttribute('data-status')
    setText(row.status, job === null ? '' : '…')
    for (const cell of [row.name, row.id, row.attempt, row.progress, row.created]) setText(cell, '')
    return
  }
  row.status.dataset['status'] = job.status
  // A job that waits for something (a release that defines its task, the network) says so where its status is.
  const why = job.waitingFor === undefined ? undefined : WAITS_FOR[job.waitingFor]
  setText(row.status, why ? `${job.status} (${job.waitingFor === 'sleep' ? 'asleep' : (job.waitingFor as string)})` : job.status)
  if (why) row.status.title = why
  else row.status.removeAttribute('title')
  setText(row.name, job.name)
  setText(row.id, job.id)
  setText(row.attempt, String(job.attempt))
  setText(row.progress, progressText(job.progress))
  setText(row.created, formatTime(job.createdAt))
}

/** A row's progress: a percentage, or a short preview of a structured value. */
function progressText(progress: JobSnapshot['progress']): string {
  if (progress === undefined) return ''
  if (typeof progress === 'number') return `${Math.round(progress)}%`
  return preview(progress, { budget: 40, depth: 1, items: 3 })
}
