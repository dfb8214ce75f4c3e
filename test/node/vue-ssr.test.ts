// offthread/vue under server rendering (Node: no window): the composables subscribe to
// nothing and give a fixed loading state, as a server render must.
import { execFile } from 'node:child_process'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { afterEach, describe, expect, it } from 'vitest'
import { createQueue, memoryStore, type Queue } from '../../src/index.js'
import { useCounts, useJob, useJobs, useQueueError, useRole } from '../../src/vue.js'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'

const queues: Queue[] = []
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close({ timeout: 0 })
})

describe('offthread/vue in a server render', () => {
  it('gives the loading state, and subscribes to nothing', async () => {
    const queue = createQueue({ store: memoryStore(), autostart: false })
    queues.push(queue)
    const handle = await queue.add('anything', 1)
    const App = defineComponent(() => {
      const snap = useJob(handle)
      const byId = useJob(queue, handle.id)
      const none = useJob(queue, undefined)
      const { jobs, state } = useJobs(queue, { status: 'waiting' })
      const { counts, state: countsState } = useCounts(queue)
      const role = useRole(queue)
      const error = useQueueError(queue)
      return () =>
        h(
          'p',
          [
            snap.value.status,
            `${byId.state.value}:${String(byId.job.value)}`,
            none.state.value,
            `${state.value}:${jobs.value.length}`,
            `${countsState.value}:${counts.value.waiting}`,
            role.value,
            String(error.value),
          ].join(' '),
        )
    })
    const html = await renderToString(createSSRApp(App))
    expect(html).toBe('<p>waiting loading:undefined missing loading:0 loading:0 follower undefined</p>')
    const watched = (store: unknown): boolean => (store as { watched: boolean }).watched
    expect(watched(queue.watch({ status: 'waiting' }))).toBe(false)
    expect(watched(queue.watchCounts())).toBe(false)
    expect(watched(queue.watchJob(handle.id))).toBe(false)
  })

  it("the built package's offthread/vue entry renders the same, and the process exits by itself", async () => {
    await ensureDist()
    const script = [
      "import { createSSRApp, h } from 'vue'",
      "import { renderToString } from 'vue/server-renderer'",
      "import { createQueue } from 'offthread'",
      "import { useCounts, useJob, useJobs, useQueueError, useRole } from 'offthread/vue'",
      "const queue = createQueue({ name: 'ssr', worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }) })",
      'const App = { setup() {',
      '  const role = useRole(queue)',
      '  const { counts, state } = useCounts(queue)',
      "  const { jobs, state: listed } = useJobs(queue, { status: 'running' })",
      "  const byId = useJob(queue, 'some-id')",
      '  const error = useQueueError(queue)',
      "  return () => h('p', [role.value, state.value, counts.value.waiting, listed.value, jobs.value.length, byId.state.value, error.value ? error.value.name : 'no error'].join(' '))",
      '} }',
      'console.log(await renderToString(createSSRApp(App)))',
    ].join('\n')
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 15_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message} (killed: ${String(error.killed)})\n${err}`)) : resolve({ stdout: out, stderr: err }),
      ),
    )
    expect(stdout.trim()).toBe('<p>follower loading 0 loading 0 loading no error</p>')
    expect(stderr).toBe('')
  })
})
