/**
 * `<offthread-inspector>`: a framework-free view of one queue for developers.
 * Counts per status, a live job list (filtered by status and task, and
 * virtualised: 100,000 jobs scroll with a few dozen rows in the DOM), a job's
 * detail with cancel / retry / remove, which tab runs the queue, and the
 * throughput. Shadow DOM, a constructable stylesheet, no inline styles and no
 * runtime dependencies: it works under a strict Content Security Policy.
 *
 * Given `el.queue = queue` it shows that queue; given only `name="…"`, the
 * page's open queue of that name, or else a queue of its own that observes
 * (no worker: it runs nothing), closed when the element leaves the page.
 */
import { observeQueue } from '../../queue/create.js'
import type { Queue } from '../../queue/queue.js'
import { JOB_STATUSES, type JobSnapshot, type JobStatus, type ListOptions, type QueueRole } from '../../shared/types.js'
import { CountsFeed } from './counts.js'
import { JobDetail } from './detail.js'
import { errorMessage, formatCount, h, prepareFormats, setText } from './dom.js'
import { JobList, type Fetch } from './list.js'
import { applyStyles } from './styles.js'
import type { InspectedQueue } from './types.js'

export type { InspectedQueue } from './types.js'

/** Completions counted for the throughput, in ms. */
const THROUGHPUT_WINDOW = 10_000
/** How long typing in the task filter waits before it filters, in ms. */
const TYPING_DELAY = 250
/** The events after which the list's window may show other jobs. */
const CHANGES = ['added', 'started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled'] as const

// Where there is no DOM (a server render importing the module), a plain base keeps the import from throwing.
const Base: typeof HTMLElement = typeof HTMLElement === 'undefined' ? (class {} as unknown as typeof HTMLElement) : HTMLElement

/**
 * The `<offthread-inspector>` element. `import 'offthread/inspector'` defines it.
 *
 * @example
 * ```ts
 * import 'offthread/inspector'
 * const el = document.createElement('offthread-inspector')
 * el.queue = queue // or <offthread-inspector name="media">
 * document.body.append(el)
 * ```
 */
export class OffthreadInspector extends Base {
  static readonly observedAttributes = ['name']

  #explicit: InspectedQueue | undefined
  /** The queue shown now (while connected). */
  #current: InspectedQueue | undefined
  /** The observer queue this element made from `name`: closed when it disconnects. */
  #owned: Queue | undefined
  #offs: Array<() => void> = []
  #counts: Readonly<Record<JobStatus, number>> | undefined
  #status: JobStatus | undefined
  #task: string | undefined
  #typing: ReturnType<typeof setTimeout> | undefined
  #completions: number[] = []
  #since = 0
  #ticker: ReturnType<typeof setInterval> | undefined
  /** Whether it is watching a queue (between #start and #stop). */
  #running = false

  #title: HTMLSpanElement
  #role: HTMLSpanElement
  #rate: HTMLSpanElement
  #announce: HTMLSpanElement
  /** Shown while this tab's calls wait on a database another tab holds (a `StorageBlockedError`). */
  #blocked: HTMLSpanElement
  #all: HTMLButtonElement
  #countButtons = new Map<JobStatus, { button: HTMLButtonElement; n: HTMLSpanElement }>()
  #taskInput: HTMLInputElement
  #total: HTMLSpanElement
  #list: JobList
  #detail: JobDetail

  constructor() {
    super()
    const root = this.attachShadow({ mode: 'open' })
    applyStyles(root)
    this.#title = h('span', { class: 'title', text: 'offthread' })
    this.#role = h('span', { class: 'role' })
    this.#rate = h('span', { class: 'rate', attrs: { title: 'Jobs completed per second over the last 10 seconds' } })
    this.#announce = h('span', { class: 'announce', attrs: { role: 'status' } })
    this.#blocked = h('span', { class: 'blocked', attrs: { role: 'alert' } })
    this.#blocked.hidden = true

    this.#all = h('button', { class: 'count all', attrs: { type: 'button', 'aria-pressed': 'true' } }, ['All'])
    this.#all.addEventListener('click', () => this.#filterStatus(undefined))
    const counts = h('div', { class: 'counts', attrs: { role: 'group', 'aria-label': 'Jobs per status (click to filter)' } }, [this.#all])
    for (const status of JOB_STATUSES) {
      const n = h('span', { class: 'n', text: '…' })
      const button = h('button', { class: 'count', attrs: { type: 'button', 'data-status': status, 'aria-pressed': 'false' } }, [
        h('span', { text: status }),
        n,
      ])
      button.addEventListener('click', () => this.#filterStatus(this.#status === status ? undefined : status))
      this.#countButtons.set(status, { button, n })
      counts.append(button)
    }
    this.#taskInput = h('input', { attrs: { type: 'search', placeholder: 'any', spellcheck: 'false', autocomplete: 'off' } })
    this.#taskInput.addEventListener('input', () => {
      clearTimeout(this.#typing)
      this.#typing = setTimeout(() => this.#filterTask(), TYPING_DELAY)
    })
    this.#taskInput.addEventListener('change', () => this.#filterTask())
    this.#total = h('span', { class: 'total' })

    this.#list = new JobList(
      {
        open: (job) => this.#open(job),
        total: (count, exact) => setText(this.#total, `${formatCount(count)}${exact ? '' : '+'} ${count === 1 && exact ? 'job' : 'jobs'}`),
      },
      'Jobs',
    )
    this.#detail = new JobDetail({
      closed: () => this.#list.focus(),
      announce: (message) => setText(this.#announce, message),
    })
    const columns = h('div', { class: 'columns', attrs: { 'aria-hidden': 'true' } }, [
      h('span', { text: 'Status' }),
      h('span', { text: 'Task' }),
      h('span', { text: 'Id' }),
      h('span', { class: 'num', text: 'Try' }),
      h('span', { class: 'num', text: 'Progress' }),
      h('span', { class: 'num', text: 'Created' }),
    ])
    root.append(
      h('div', { class: 'shell' }, [
        h('div', { class: 'top' }, [this.#title, this.#role, this.#rate, this.#blocked, this.#announce]),
        h('div', { class: 'bar' }, [counts, h('label', { class: 'task' }, [h('span', { text: 'Task' }), this.#taskInput]), this.#total]),
        h('div', { class: 'body' }, [h('div', { class: 'pane' }, [columns, this.#list.element]), this.#detail.element]),
      ]),
    )
    root.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key !== 'Escape' || !this.#detail.isOpen) return
      event.preventDefault()
      this.#detail.close()
    })
  }

  /** The queue shown: the one set, else the one `name` names (while connected). */
  get queue(): InspectedQueue | undefined {
    return this.#explicit ?? this.#current
  }

  set queue(queue: InspectedQueue | undefined | null) {
    if (queue != null && (typeof queue !== 'object' || typeof queue.list !== 'function' || typeof queue.on !== 'function')) {
      throw new TypeError(`<offthread-inspector>.queue: expected a Queue (from createQueue), received ${queue === null ? 'null' : typeof queue}`)
    }
    const next = queue ?? undefined
    if (next === this.#explicit) return
    this.#explicit = next
    if (this.#running) this.#restart()
  }

  connectedCallback(): void {
    // A `queue` set on the element before it was defined (upgraded) is an own property that hides the setter.
    if (Object.prototype.hasOwnProperty.call(this, 'queue')) {
      const queue = (this as { queue?: InspectedQueue }).queue
      delete (this as { queue?: InspectedQueue }).queue
      this.queue = queue
    }
    if (!this.#running) this.#start()
  }

  disconnectedCallback(): void {
    this.#stop()
  }

  attributeChangedCallback(name: string, before: string | null, after: string | null): void {
    // On upgrade this runs before connectedCallback (which starts): only a running element restarts.
    if (name === 'name' && before !== after && this.#running && !this.#explicit) this.#restart()
  }

  #restart(): void {
    this.#stop()
    this.#start()
  }

  #start(): void {
    if (!this.isConnected) return
    this.#running = true
    const queue = this.#explicit ?? this.#observe()
    if (!queue) return
    this.#current = queue
    prepareFormats()
    setText(this.#title, queue.name)
    this.#showRole(queue.role)
    this.#completions = []
    this.#since = performance.now()
    this.#showRate()
    this.#ticker = setInterval(() => {
      this.#showRate()
      // Which release runs the queue changes with other tabs (a deploy): no event of this tab says so.
      this.#showRole(queue.role)
      this.#showBlocked(queue.storageBlocked === true)
    }, 1000)

    const counts = new CountsFeed(queue, (value) => {
      this.#counts = value
      this.#showCounts(value)
    })
    this.#offs.push(() => counts.stop())
    for (const event of CHANGES) this.#offs.push(queue.on(event, () => this.#list.invalidate()))
    this.#offs.push(queue.on('progress', (job, progress) => this.#list.progress(job.id, progress)))
    this.#offs.push(queue.on('completed', () => this.#completions.push(performance.now())))
    this.#offs.push(queue.on('role', (role) => this.#showRole(role)))

    this.#offs.push(
      queue.on('removed', (ids) => {
        this.#list.invalidate()
        const id = this.#detail.jobId
        if (id !== undefined && ids.includes(id)) this.#detail.removed(id)
      }),
    )
    this.#resetList()
  }

  /** The queue `name` names: the page's open one, or an observer made here. */
  #observe(): InspectedQueue | undefined {
    const name = this.getAttribute('name')
    if (!name) {
      setText(this.#title, 'offthread: no queue (set the queue property or the name attribute)')
      return undefined
    }
    try {
      const { queue, owned } = observeQueue(name)
      if (owned) this.#owned = queue
      return queue
    } catch (error) {
      setText(this.#title, `offthread: ${errorMessage(error)}`)
      return undefined
    }
  }

  #stop(): void {
    this.#running = false
    for (const off of this.#offs.splice(0)) off()
    clearInterval(this.#ticker)
    clearTimeout(this.#typing)
    this.#ticker = undefined
    this.#list.detach()
    this.#detail.hide()
    this.#current = undefined
    this.#counts = undefined
    for (const { n } of this.#countButtons.values()) setText(n, '…')
    const owned = this.#owned
    this.#owned = undefined
    if (owned) void owned.close({ timeout: 0 }).catch(() => undefined)
  }

  /** Shows the current filter's jobs from the top. */
  #resetList(): void {
    const queue = this.#current
    if (!queue) return
    const status = this.#status
    const name = this.#task
    const query: ListOptions = {}
    if (status !== undefined) query.status = status
    if (name !== undefined) query.name = name
    const fetch: Fetch = (offset, limit) => queue.list({ ...query, offset, limit })
    // By status: the counts give the total. By task: no count exists, so the list pages forward to find its end.
    this.#list.reset(fetch, name !== undefined ? undefined : this.#totalOf(this.#counts))
  }

  #totalOf(counts: Readonly<Record<JobStatus, number>> | undefined): number {
    if (!counts) return 0
    if (this.#status !== undefined) return counts[this.#status]
    return JOB_STATUSES.reduce((sum, status) => sum + counts[status], 0)
  }

  #showCounts(counts: Readonly<Record<JobStatus, number>>): void {
    for (const [status, { n, button }] of this.#countButtons) {
      setText(n, formatCount(counts[status]))
      button.setAttribute('aria-label', `${status}: ${counts[status]}`)
    }
    if (this.#task === undefined) this.#list.setTotal(this.#totalOf(counts))
  }

  #filterStatus(status: JobStatus | undefined): void {
    if (status === this.#status) return
    this.#status = status
    this.#all.setAttribute('aria-pressed', String(status === undefined))
    for (const [s, { button }] of this.#countButtons) button.setAttribute('aria-pressed', String(s === status))
    this.#resetList()
  }

  #filterTask(): void {
    clearTimeout(this.#typing)
    const task = this.#taskInput.value.trim() || undefined
    if (task === this.#task) return
    this.#task = task
    this.#resetList()
  }

  #open(job: JobSnapshot): void {
    const queue = this.#current
    if (queue) this.#detail.show(queue, job, true)
  }

  #showRole(role: QueueRole): void {
    this.#role.dataset['role'] = role
    const release = this.#current?.runner?.version
    const of = release === undefined ? '' : ` (release ${String(release)})`
    setText(this.#role, role === 'runner' ? `this tab runs the queue${of}` : `another tab runs the queue${of}`)
  }

  /** Read on the throughput's tick (listening to `error` would take the queue's errors off the console). */
  #showBlocked(blocked: boolean): void {
    if (this.#blocked.hidden === !blocked) return
    this.#blocked.hidden = !blocked
    setText(this.#blocked, blocked ? 'storage blocked: another tab holds the database (frozen or stopped?)' : '')
  }

  #showRate(): void {
    const now = performance.now()
    const completions = this.#completions
    let old = 0
    while (old < completions.length && (completions[old] as number) < now - THROUGHPUT_WINDOW) old++
    if (old > 0) completions.splice(0, old)
    // Over the last 10 s, or since the element started watching when that is shorter.
    const seconds = Math.min(THROUGHPUT_WINDOW, Math.max(1000, now - this.#since)) / 1000
    setText(this.#rate, `${(completions.length / seconds).toFixed(1)} jobs/s`)
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'offthread-inspector': OffthreadInspector
  }
}
