import type { JobSnapshot, LogEntry } from 'offthread'
import { queue } from './queue'

const MAX_ROWS = 200
const FINAL = new Set(['completed', 'failed', 'cancelled'])

interface Row {
  snap: JobSnapshot
  el: HTMLTableRowElement
}

const tbody = document.querySelector<HTMLTableSectionElement>('#jobs')!
const logList = document.querySelector<HTMLOListElement>('#logs')!
const logTitle = document.querySelector<HTMLElement>('#logs-title')!

const rows = new Map<string, Row>()
let order: Row[] = []
const dirty = new Set<string>()
let reorder = false
let frame = 0
let selected: string | undefined

/** Records a snapshot; the DOM is updated once per animation frame, however many events arrive. */
export function upsert(snap: JobSnapshot): void {
  const row = rows.get(snap.id)
  if (row) row.snap = snap
  else {
    rows.set(snap.id, { snap, el: createRow(snap.id) })
    reorder = true
  }
  dirty.add(snap.id)
  schedule()
}

export function forget(ids: Iterable<string>): void {
  for (const id of ids) rows.delete(id)
  reorder = true
  schedule()
}

export function finishedIds(): string[] {
  return [...rows.values()].filter((r) => FINAL.has(r.snap.status)).map((r) => r.snap.id)
}

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(flush)
}

function flush(): void {
  frame = 0
  if (reorder) {
    reorder = false
    const all = [...rows.values()].sort((a, b) => b.snap.createdAt - a.snap.createdAt || (a.snap.id < b.snap.id ? 1 : -1))
    // Only the newest rows are kept, so a thousand jobs cost the page no more than two hundred.
    for (const dropped of all.slice(MAX_ROWS)) rows.delete(dropped.snap.id)
    order = all.slice(0, MAX_ROWS)
    tbody.replaceChildren(...order.map((r) => r.el))
  }
  for (const id of dirty) {
    const row = rows.get(id)
    if (row) paint(row)
  }
  dirty.clear()
}

function createRow(id: string): HTMLTableRowElement {
  const el = document.createElement('tr')
  el.dataset['id'] = id
  el.innerHTML =
    '<td class="id"></td><td class="task"></td><td><span class="pill"></span></td><td class="num attempt"></td>' +
    '<td><div class="progress"><div class="tile-bar"><span></span></div><small></small></div></td><td class="num duration"></td>' +
    '<td class="actions"><button class="cancel" title="cancel">cancel</button><button class="retry" title="retry">retry</button></td>'
  el.querySelector('.id')!.textContent = id.length > 14 ? `${id.slice(0, 12)}…` : id
  el.querySelector<HTMLButtonElement>('.cancel')!.onclick = (event) => {
    event.stopPropagation()
    void queue.getJob(id).then((h) => h?.cancel('cancelled from the demo'))
  }
  el.querySelector<HTMLButtonElement>('.retry')!.onclick = (event) => {
    event.stopPropagation()
    void queue.retry(id).then((h) => upsert(h.toJSON()))
  }
  el.onclick = () => void select(id)
  return el
}

function paint({ snap, el }: Row): void {
  el.dataset['task'] = snap.name
  el.dataset['status'] = snap.status
  el.classList.toggle('selected', snap.id === selected)
  el.querySelector('.task')!.textContent = snap.name
  el.querySelector('.pill')!.textContent = snap.status
  el.querySelector('.attempt')!.textContent = String(snap.attempt)
  const p = snap.status === 'completed' ? 100 : typeof snap.progress === 'number' ? snap.progress : 0
  el.querySelector<HTMLSpanElement>('.progress span')!.style.width = `${p}%`
  el.querySelector('.progress small')!.textContent = `${Math.round(p)}%`
  el.querySelector('.duration')!.textContent = duration(snap)
  el.querySelector<HTMLButtonElement>('.cancel')!.disabled = FINAL.has(snap.status)
  el.querySelector<HTMLButtonElement>('.retry')!.disabled = snap.status !== 'failed' && snap.status !== 'cancelled'
}

function duration(snap: JobSnapshot): string {
  if (!snap.startedAt) return ''
  const ms = (snap.finishedAt ?? Date.now()) - snap.startedAt
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

export async function select(id: string): Promise<void> {
  const previous = selected
  selected = id
  for (const key of [previous, id]) if (key && rows.has(key)) dirty.add(key)
  schedule()
  logTitle.textContent = `Logs of ${id}`
  const handle = await queue.getJob(id)
  if (!handle || selected !== id) return
  const [logs, errors] = await Promise.all([handle.logs(), handle.errors()])
  if (selected !== id) return
  const entries: LogEntry[] = [
    ...logs,
    ...errors.map((e) => ({ level: 'error' as const, message: `attempt ${e.attempt} failed: ${e.name}: ${e.message}`, timestamp: e.failedAt })),
  ].sort((a, b) => a.timestamp - b.timestamp)
  logList.replaceChildren(...entries.map(logItem))
  if (!entries.length) logList.replaceChildren(emptyItem())
}

function logItem(entry: LogEntry): HTMLLIElement {
  const li = document.createElement('li')
  li.className = entry.level
  const time = new Date(entry.timestamp).toLocaleTimeString(undefined, { hour12: false })
  const meta = entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''
  li.textContent = `${time} ${entry.level.padEnd(5)} ${entry.message}${meta}`
  return li
}

function emptyItem(): HTMLLIElement {
  const li = document.createElement('li')
  li.className = 'empty'
  li.textContent = 'no log entries yet'
  return li
}

export async function initTable(): Promise<void> {
  for (const event of ['added', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled'] as const) {
    queue.on(event, (job: JobSnapshot) => upsert(job))
  }
  queue.on('log', (job, entry) => {
    if (job.id !== selected) return
    logList.querySelector('.empty')?.remove()
    logList.append(logItem(entry))
  })
  queue.on('failed', (job, error) => {
    if (job.id === selected) logList.append(logItem({ level: 'error', message: `failed: ${error.name}: ${error.message}`, timestamp: Date.now() }))
  })
  queue.on('retrying', (job, retry) => {
    if (job.id === selected) {
      logList.append(
        logItem({ level: 'warn', message: `${retry.error.message}; attempt ${retry.attempt} in ${retry.delay} ms`, timestamp: Date.now() }),
      )
    }
  })
  // Running jobs' durations tick without any event.
  setInterval(() => {
    for (const row of order) if (row.snap.status === 'running') dirty.add(row.snap.id)
    if (dirty.size) schedule()
  }, 250)
  for (const snap of await queue.list({ limit: MAX_ROWS })) upsert(snap)
}
