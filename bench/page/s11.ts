// S11's app page: what an app does at load (createQueue, then one add), nothing else in its
// bundle. It tells the bench page (its parent) when the job started, in ms since its navigation.
import { createQueue, idbStore } from 'offthread'
import type { Tasks } from './offthread.worker'

const params = new URLSearchParams(location.search)
const queue = createQueue<Tasks>({
  name: params.get('queue') ?? 's11',
  worker: () => new Worker(new URL('./offthread.worker.ts', import.meta.url), { type: 'module' }),
  concurrency: Number(params.get('workers') ?? 2),
  store: idbStore(),
})
const off = queue.on('started', () => {
  off()
  parent.postMessage({ s11: performance.now() }, '*')
})
void queue.add('noop', null)
