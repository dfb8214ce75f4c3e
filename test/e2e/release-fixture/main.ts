// One app in two releases: `?release=1` is the build loaded before a deploy, `?release=2`
// the one after it (its worker module has a task more and one less: see the workers).
import { createQueue, type JobHandle } from '../../../src/index.js'

const release = Number(new URLSearchParams(location.search).get('release') ?? '1')
const queue = createQueue({
  name: 'releases',
  version: release,
  abortGrace: 300,
  concurrency: 2,
  worker: () =>
    release === 2
      ? new Worker(new URL('../../browser/fixtures/release-2.worker.ts', import.meta.url), { type: 'module' })
      : new Worker(new URL('../../browser/fixtures/release-1.worker.ts', import.meta.url), { type: 'module' }),
})
const failed: string[] = []
queue.on('failed', (job) => failed.push(`${job.name}:${job.id}`))
const add = queue.add.bind(queue) as (name: string, data: unknown) => Promise<JobHandle>

Object.assign(window, {
  harness: {
    role: () => queue.role,
    runner: () => queue.runner?.version,
    failed: () => failed,
    add: async (name: string, data: unknown) => (await add(name, data)).id,
    result: async (id: string) => (await queue.getJob(id))?.result(),
    status: async (id: string) => (await queue.getJob(id))?.status,
  },
})
document.title = `release ${release}`
