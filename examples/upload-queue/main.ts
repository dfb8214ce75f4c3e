// The page: files from an <input> go into a durable upload queue. Offline, they wait (and
// say so); a reload or a closed tab does not lose them; back online, they go.
import { createQueue, type JobSnapshot } from 'offthread'
import type { Tasks } from './tasks.worker'

const queue = createQueue<Tasks>({
  name: 'uploads',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  // A 4xx answer is final; anything else (a 5xx, a timeout) is retried with backoff.
  defaults: { retry: { noRetryOn: ['Refused'] } },
})

const endpoint = new URL('./upload', location.href).href
const input = document.querySelector('#files') as HTMLInputElement
const list = document.querySelector('#jobs') as HTMLUListElement
const network = document.querySelector('#network') as HTMLElement

input.addEventListener('change', () => {
  void (async () => {
    for (const file of input.files ?? []) {
      // The file's name in the job's id: list reads carry no data, and every tab shows it.
      const id = `${file.name} · ${crypto.randomUUID().slice(0, 8)}`
      await queue.add('upload', { endpoint, name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) }, { id })
    }
    input.value = ''
  })()
})

const stored = new Map<string, string>()
const describe = (job: JobSnapshot): string =>
  job.waitingFor === 'network'
    ? 'waiting for the network'
    : job.status === 'completed'
      ? `uploaded${stored.has(job.id) ? ` as ${stored.get(job.id)}` : ''}`
      : job.status

// Live: every job of the queue, from this tab or another one, as it moves.
const jobs = queue.watch({ name: 'upload', limit: 50 })
const render = (): void =>
  list.replaceChildren(
    ...jobs.getSnapshot().map((job) => {
      const item = document.createElement('li')
      item.dataset['status'] = job.status
      if (job.waitingFor) item.dataset['waitingFor'] = job.waitingFor
      item.textContent = `${job.id}: ${describe(job)}, attempt ${job.attempt}`
      return item
    }),
  )
jobs.subscribe(render)
// What the server answered, for the jobs that complete while this tab looks (list reads carry no results).
queue.on('completed', (job, result) => {
  const answer = result as { stored?: string } | undefined
  if (answer?.stored !== undefined) stored.set(job.id, answer.stored)
  render()
})

// As the queue tells it: offline from an `offline` event (or navigator.onLine false) until an `online` event.
let online = navigator.onLine
const showNetwork = (_?: unknown): void => void (network.textContent = online ? 'online' : 'offline: uploads wait')
addEventListener('online', () => showNetwork((online = true)))
addEventListener('offline', () => showNetwork((online = false)))
showNetwork()
// Which tab uploads: one tab runs the queue; the others show its jobs.
const role = document.querySelector('#role') as HTMLElement
const showRole = (): void => void (role.textContent = queue.role)
queue.on('role', showRole)
showRole()
