// A first demo: prime counting jobs with live progress, cancel, and resume after reload.
import { createQueue, type JobSnapshot } from 'offthread'
import type { Tasks } from './tasks.worker'

const queue = createQueue<Tasks>({
  name: 'demo',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
})

const rows = document.querySelector<HTMLTableSectionElement>('#jobs')!
const status = document.querySelector<HTMLSpanElement>('#status')!

function render(job: JobSnapshot): void {
  let row = document.getElementById(`job-${job.id}`) as HTMLTableRowElement | null
  if (!row) {
    row = document.createElement('tr')
    row.id = `job-${job.id}`
    row.innerHTML = '<td></td><td class="status"></td><td><progress max="100" value="0"></progress></td><td class="result"></td><td><button>cancel</button></td>'
    ;(row.cells[0] as HTMLTableCellElement).textContent = `${job.name}(${String(job.data)}) ${job.id.slice(0, 6)}`
    row.querySelector('button')!.onclick = () => void queue.getJob(job.id).then((h) => h?.cancel('cancelled in the demo'))
    rows.prepend(row)
  }
  row.querySelector('.status')!.textContent = job.status
  if (typeof job.progress === 'number') row.querySelector('progress')!.value = job.progress
  if (job.status === 'completed') {
    row.querySelector('progress')!.value = 100
    row.querySelector('.result')!.textContent = String(job.result)
  }
  if (job.status === 'failed' || job.status === 'cancelled') row.querySelector('.result')!.textContent = job.error?.message ?? ''
}

for (const event of ['added', 'started', 'progress', 'completed', 'failed', 'cancelled', 'retrying'] as const) {
  queue.on(event, (job: JobSnapshot) => render(job))
}
queue.on('idle', () => (status.textContent = 'idle'))

document.querySelector<HTMLButtonElement>('#add')!.onclick = async () => {
  status.textContent = 'running'
  await queue.addBulk([3, 4, 5, 6].map((n) => ({ name: 'countPrimes' as const, data: n * 1_000_000 })))
}
document.querySelector<HTMLButtonElement>('#clear')!.onclick = async () => {
  await queue.clean({ status: ['completed', 'failed', 'cancelled'] })
  rows.replaceChildren()
  for (const job of (await queue.list({ limit: 50 })).reverse()) render(job)
}

for (const job of (await queue.list({ limit: 50 })).reverse()) render(job)
status.textContent = 'ready'
