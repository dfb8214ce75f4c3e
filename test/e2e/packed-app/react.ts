// react.ts: a live job list with offthread/react (the README's example, without JSX)
import { createElement as h, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { createQueue, type JobHandle } from 'offthread'
import { useCounts, useJob, useJobs, useRole } from 'offthread/react'
import type { Tasks } from './tasks.worker'

const queue = createQueue<Tasks>({
  name: 'react-app',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
})

function Job({ handle }: { handle: JobHandle<number, number | object> }) {
  const snap = useJob(handle)
  return h('p', { id: 'job' }, `${snap?.status ?? 'unknown'} ${String(snap?.progress ?? 0)} ${String(snap?.result ?? '')}`)
}

function App() {
  const { jobs } = useJobs(queue, { name: 'countPrimes' })
  const { counts } = useCounts(queue)
  const role = useRole(queue)
  const [handle, setHandle] = useState<JobHandle<number, number | object>>()
  return h(
    'div',
    null,
    h('button', { id: 'add', onClick: () => void queue.add('countPrimes', 200_000).then(setHandle) }, 'add'),
    h('p', { id: 'role' }, role),
    h('p', { id: 'counts' }, `completed: ${counts.completed}`),
    h('ul', { id: 'list' }, ...jobs.map((job) => h('li', { key: job.id }, `${job.name} ${job.status}`))),
    handle ? h(Job, { handle }) : null,
  )
}

createRoot(document.querySelector('#root')!).render(h(App))
