/**
 * The inspector's job detail: the job's fields, its input (read on demand and
 * previewed within bounds: a large binary, stored as a Blob, is read only as far
 * as the preview shows it), its result, its error with
 * the stack and causes, every attempt's error (`handle.errors()`), its log
 * (`handle.logs()`, then live `log` events), and the cancel, retry and remove
 * buttons. It follows the job live through its handle.
 */
import type { JobHandle } from '../../queue/handle.js'
import { isFinal, type ErrorRecord, type JobSnapshot, type LogEntry, type SerializedError } from '../../shared/types.js'
import { FOREVER } from '../../shared/waits.js'
import { errorMessage, formatDateTime, formatTime, h, isClosedError, setText } from './dom.js'
import { preview, TYPED_VALUES } from './preview.js'
import type { InspectedQueue } from './types.js'

/** Log lines shown at most (the newest). */
const MAX_LOG_LINES = 500
/** Causes of an error shown at most. */
const MAX_CAUSES = 5

/** What the detail asks of the inspector around it. */
export interface JobDetailHost {
  /** The detail was closed by the user (its button or Escape): focus goes back to the list. */
  closed(): void
  /** Says `message` in the inspector's live region. */
  announce(message: string): void
}

/**
 * A handle that reads its input for a preview: as `data()`, but each large binary (stored as a
 * Blob) read only up to its first `items` elements, as a `BinaryHead` (shared/binary.ts).
 */
interface HeadReader {
  dataHead(items: number): Promise<unknown>
}

/** The job's input as far as its preview shows it: the whole input only from a handle that cannot read less. */
function inputOf(handle: JobHandle): Promise<unknown> {
  const reader = handle as JobHandle & Partial<HeadReader>
  return typeof reader.dataHead === 'function' ? reader.dataHead(TYPED_VALUES) : handle.data()
}

/** The methods of a queue the detail uses. */
export type DetailQueue = Pick<InspectedQueue, 'getJob' | 'retry' | 'remove'>

/** One job's detail panel. */
export class JobDetail {
  readonly element: HTMLElement
  #host: JobDetailHost
  #heading: HTMLHeadingElement
  #sub: HTMLParagraphElement
  #buttons: { cancel: HTMLButtonElement; retry: HTMLButtonElement; remove: HTMLButtonElement; close: HTMLButtonElement }
  #fields: HTMLDListElement
  #input: HTMLPreElement
  #resultSection: HTMLElement
  #result: HTMLPreElement
  #errorSection: HTMLElement
  #error: HTMLElement
  #attemptsSection: HTMLElement
  #attempts: HTMLOListElement
  #steps: HTMLDListElement
  #stepsSection: HTMLElement
  #logsNote: HTMLParagraphElement
  #logs: HTMLOListElement
  #queue: DetailQueue | undefined
  #id: string | undefined
  #handle: JobHandle | undefined
  #snapshot: JobSnapshot | undefined
  #offs: Array<() => void> = []
  /** Bumped on every show/hide: answers for an earlier job are dropped. */
  #generation = 0
  /** The status and attempt the errors and logs were last read at. */
  #readAt = ''
  #logLines: LogEntry[] = []
  #busy = false

  constructor(host: JobDetailHost) {
    this.#host = host
    const button = (text: string, cls: string): HTMLButtonElement => h('button', { class: cls, text, attrs: { type: 'button' } })
    this.#buttons = {
      cancel: button('Cancel', 'cancel'),
      retry: button('Retry', 'retry'),
      remove: button('Remove', 'remove'),
      close: button('Close', 'close'),
    }
    this.#heading = h('h2', { class: 'heading', attrs: { tabindex: '-1' } })
    this.#sub = h('p', { class: 'sub id' })
    this.#fields = h('dl', { class: 'fields' })
    this.#input = h('pre', { class: 'input' })
    this.#result = h('pre', { class: 'result' })
    this.#resultSection = h('section', { class: 'result-section' }, [h('h3', { text: 'Result' }), this.#result])
    this.#error = h('div', { class: 'error' })
    this.#errorSection = h('section', { class: 'error-section' }, [h('h3', { text: 'Error' }), this.#error])
    this.#attempts = h('ol', { class: 'attempts' })
    this.#attemptsSection = h('section', { class: 'attempts-section' }, [h('h3', { text: 'Failed attempts' }), this.#attempts])
    this.#steps = h('dl', { class: 'fields steps' })
    this.#stepsSection = h('section', { class: 'steps-section' }, [h('h3', { text: 'Durable steps' }), this.#steps])
    this.#stepsSection.hidden = true
    this.#logsNote = h('p', { class: 'note' })
    this.#logs = h('ol', { class: 'logs' })
    this.element = h('section', { class: 'detail', attrs: { 'aria-label': 'Job detail' } }, [
      this.#heading,
      this.#sub,
      h('div', { class: 'actions' }, [this.#buttons.cancel, this.#buttons.retry, this.#buttons.remove, this.#buttons.close]),
      this.#fields,
      h('section', { class: 'input-section' }, [h('h3', { text: 'Input' }), this.#input]),
      this.#resultSection,
      this.#errorSection,
      this.#attemptsSection,
      this.#stepsSection,
      h('section', { class: 'logs-section' }, [h('h3', { text: 'Log' }), this.#logsNote, this.#logs]),
    ])
    this.element.hidden = true
    this.#buttons.close.addEventListener('click', () => this.close())
    this.#buttons.cancel.addEventListener('click', () => void this.#act('cancel'))
    this.#buttons.retry.addEventListener('click', () => void this.#act('retry'))
    this.#buttons.remove.addEventListener('click', () => void this.#act('remove'))
  }

  /** The id of the job shown, or undefined while closed. */
  get jobId(): string | undefined {
    return this.#id
  }

  get isOpen(): boolean {
    return !this.element.hidden
  }

  /** Shows job `job` of `queue` (from the list's snapshot at once, then live from its handle); `focus` moves focus to its heading. */
  show(queue: DetailQueue, job: JobSnapshot, focus: boolean): void {
    this.#stop()
    const generation = ++this.#generation
    this.#queue = queue
    this.#id = job.id
    this.#readAt = ''
    this.#logLines = []
    this.#logs.replaceChildren()
    setText(this.#logsNote, 'Reading…')
    setText(this.#input, 'Reading…')
    this.#attempts.replaceChildren()
    this.#attemptsSection.hidden = true
    this.element.hidden = false
    this.#render(job)
    if (focus) this.#heading.focus()
    void this.#follow(queue, job.id, generation)
  }

  /** Closes the detail because the user asked: the host moves focus back. */
  close(): void {
    if (!this.isOpen) return
    this.hide()
    this.#host.closed()
  }

  /** Hides the detail and lets go of its job. */
  hide(): void {
    this.#stop()
    this.#generation++
    this.#id = undefined
    this.#queue = undefined
    this.#snapshot = undefined
    this.element.hidden = true
  }

  /** Job `id` was deleted. */
  removed(id: string): void {
    if (id !== this.#id) return
    const root = this.element.getRootNode()
    const focused = root instanceof ShadowRoot ? root.activeElement : document.activeElement
    const wasFocused = focused !== null && this.element.contains(focused)
    this.hide()
    this.#host.announce(`Job ${id} was removed`)
    if (wasFocused) this.#host.closed()
  }

  #stop(): void {
    for (const off of this.#offs.splice(0)) off()
    this.#handle = undefined
  }

  async #follow(queue: DetailQueue, id: string, generation: number): Promise<void> {
    let handle: JobHandle | undefined
    try {
      handle = await queue.getJob(id)
    } catch (error) {
      if (generation === this.#generation) setText(this.#input, isClosedError(error) ? 'The queue is closed' : errorMessage(error))
      return
    }
    if (generation !== this.#generation) return
    if (!handle) {
      setText(this.#sub, `${id}: this job no longer exists`)
      setText(this.#input, '')
      setText(this.#logsNote, '')
      this.#setButtons(undefined)
      return
    }
    this.#handle = handle
    this.#offs.push(handle.subscribe((snapshot) => this.#render(snapshot)))
    this.#offs.push(handle.on('log', (entry) => this.#appendLog(entry)))
    try {
      const data = await inputOf(handle)
      if (generation === this.#generation) setText(this.#input, data === undefined ? '(none)' : preview(data))
    } catch (error) {
      if (generation === this.#generation) setText(this.#input, `Cannot read the input: ${errorMessage(error)}`)
    }
  }

  #render(job: JobSnapshot): void {
    if (job.id !== this.#id) return
    this.#snapshot = job
    setText(this.#heading, `${job.name} · ${job.status}`)
    setText(this.#sub, job.id)
    const rows: Array<[string, string]> = [
      ['Task', job.name],
      ['Status', job.status],
      ['Attempt', String(job.attempt)],
      ['Priority', String(job.priority)],
    ]
    if (job.key !== undefined) rows.push(['Key', job.key])
    if (job.group !== undefined) rows.push(['Group', job.group])
    if (job.version !== undefined) rows.push(['Release', String(job.version)])
    if (job.waitingFor === 'release') rows.push(['Waits for', 'a tab of a release that defines this task (the tab running the queue does not)'])
    if (job.waitingFor === 'network') rows.push(['Waits for', 'the network (the browser running the queue is offline; its attempt is not used up)'])
    if (job.waitingFor === 'sleep') rows.push(['Waits for', 'its time: its handler sleeps (ctx.sleep; no worker held, its attempt not used up)'])
    if (job.waitingFor === 'signal') {
      const until = job.runAt < FOREVER ? `, or its timeout at ${formatDateTime(job.runAt)}` : ''
      rows.push(['Waits for', `signal "${job.signal ?? ''}" (ctx.waitFor): queue.signal(id, "${job.signal ?? ''}", payload) wakes it${until}`])
    }
    if (job.waitingFor === 'group') rows.push(['Waits for', `its group (${job.group ?? '?'}) to be resumed: it is paused`])
    if (job.batch !== undefined)
      rows.push(['Batch', job.batch === 1 ? 'ran alone (a batch of 1)' : `ran in a batch of ${job.batch} (one call of the handler)`])
    if (job.progress !== undefined)
      rows.push(['Progress', typeof job.progress === 'number' ? `${job.progress}%` : preview(job.progress, { budget: 200 })])
    rows.push(['Created', formatDateTime(job.createdAt)])
    if (job.runAt > job.createdAt && job.runAt < FOREVER) rows.push(['Runs at', formatDateTime(job.runAt)])
    if (job.startedAt !== undefined) rows.push(['Started', formatDateTime(job.startedAt)])
    if (job.finishedAt !== undefined) rows.push(['Finished', formatDateTime(job.finishedAt)])
    if (job.dependencies.length > 0) rows.push(['Depends on', job.dependencies.join(', ')])
    this.#fields.replaceChildren(...rows.flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]))

    this.#resultSection.hidden = job.status !== 'completed'
    if (job.status === 'completed') setText(this.#result, job.result === undefined ? '(none)' : preview(job.result))
    this.#errorSection.hidden = job.error === undefined
    if (job.error) this.#error.replaceChildren(...errorView(job.error))
    this.#setButtons(job)

    // A new status or attempt: the errors and the log may have grown.
    const at = `${job.status}:${job.attempt}`
    if (at !== this.#readAt && this.#handle) {
      this.#readAt = at
      void this.#readHistory(this.#handle, this.#generation)
    }
  }

  #setButtons(job: JobSnapshot | undefined): void {
    const { cancel, retry, remove } = this.#buttons
    cancel.disabled = this.#busy || !job || isFinal(job.status)
    retry.disabled = this.#busy || !job || (job.status !== 'failed' && job.status !== 'cancelled')
    remove.disabled = this.#busy || !job
  }

  async #readHistory(handle: JobHandle, generation: number): Promise<void> {
    let errors: ErrorRecord[]
    let logs: LogEntry[]
    let steps: Record<string, unknown>
    try {
      ;[errors, logs, steps] = await Promise.all([handle.errors(), handle.logs(), handle.steps()])
    } catch (error) {
      if (generation === this.#generation && !isClosedError(error)) setText(this.#logsNote, `Cannot read the log: ${errorMessage(error)}`)
      return
    }
    if (generation !== this.#generation) return
    // Each completed `ctx.step`, with a preview of its stored result.
    const stepEntries = Object.entries(steps)
    this.#stepsSection.hidden = stepEntries.length === 0
    this.#steps.replaceChildren(
      ...stepEntries.flatMap(([id, value]) => [h('dt', { text: id }), h('dd', { class: 'mono', text: preview(value, { budget: 300, depth: 2 }) })]),
    )
    this.#attemptsSection.hidden = errors.length === 0
    this.#attempts.replaceChildren(
      ...errors.map((record) =>
        h('li', {}, [h('div', { class: 'note', text: `Attempt ${record.attempt} · ${formatDateTime(record.failedAt)}` }), ...errorView(record)]),
      ),
    )
    this.#logLines = []
    this.#logs.replaceChildren()
    for (const entry of logs.slice(-MAX_LOG_LINES)) this.#appendLog(entry, false)
    this.#noteLogs(logs.length)
  }

  #appendLog(entry: LogEntry, live = true): void {
    // A line heard live may also be in a read that raced it.
    if (live && this.#logLines.slice(-20).some((e) => e.timestamp === entry.timestamp && e.message === entry.message && e.level === entry.level))
      return
    this.#logLines.push(entry)
    const line = h('li', {}, [
      h('span', { class: 'mono', text: formatTime(entry.timestamp) }),
      h('span', { class: 'level', text: entry.level, attrs: { 'data-level': entry.level } }),
      h('span', { class: 'message-text', text: entry.message }),
    ])
    if (entry.meta !== undefined) line.append(h('span', { class: 'meta mono', text: preview(entry.meta, { budget: 300, depth: 2 }) }))
    this.#logs.append(line)
    if (this.#logLines.length > MAX_LOG_LINES) {
      this.#logLines.shift()
      this.#logs.firstElementChild?.remove()
    }
    if (live) this.#noteLogs(this.#logLines.length)
  }

  #noteLogs(total: number): void {
    const shown = this.#logLines.length
    setText(this.#logsNote, total === 0 ? 'No log lines' : total > shown ? `The last ${shown} of ${total.toLocaleString()} lines` : '')
  }

  async #act(action: 'cancel' | 'retry' | 'remove'): Promise<void> {
    const queue = this.#queue
    const id = this.#id
    if (!queue || id === undefined || this.#busy) return
    this.#busy = true
    this.#setButtons(this.#snapshot)
    try {
      if (action === 'cancel') {
        const done = this.#handle ? await this.#handle.cancel() : false
        this.#host.announce(done ? `Cancelled job ${id}` : `Job ${id} had already finished`)
      } else if (action === 'retry') {
        await queue.retry(id)
        this.#host.announce(`Job ${id} is queued again`)
      } else {
        const removed = await queue.remove(id)
        if (id === this.#id) {
          this.removed(id)
          if (!removed) this.#host.announce(`Job ${id} no longer exists`)
        }
      }
    } catch (error) {
      this.#host.announce(`${action} failed: ${errorMessage(error)}`)
    } finally {
      this.#busy = false
      if (id === this.#id) this.#setButtons(this.#snapshot)
    }
  }
}

/** An error's message, its stack and its causes, as elements. */
function errorView(error: SerializedError | ErrorRecord): HTMLElement[] {
  const out: HTMLElement[] = [h('p', { class: 'message', text: `${error.name}: ${error.message}` })]
  if ('code' in error && error.code !== undefined) out.push(h('p', { class: 'note', text: `code ${error.code}` }))
  if (error.stack) out.push(h('pre', { class: 'stack', text: error.stack }))
  let cause = 'cause' in error ? error.cause : undefined
  for (let depth = 0; cause && depth < MAX_CAUSES; depth++, cause = cause.cause) {
    out.push(h('p', { class: 'cause', text: `Caused by ${cause.name}: ${cause.message}` }))
    if (cause.stack) out.push(h('pre', { class: 'stack', text: cause.stack }))
  }
  return out
}
