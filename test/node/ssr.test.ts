/**
 * Server rendering with offthread/react (API.md section 10, "Live state"): a queue made at
 * module scope, as an app's shared module makes it, rendered by react-dom/server in Node.
 * The hooks render their fixed loading state (what the browser's hydration renders first),
 * and the process exits by itself: nothing of the queue keeps it alive.
 */
import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'

await ensureDist()

describe('server rendering (react-dom/server in Node, the built package)', () => {
  it('every hook renders its loading state, and the process exits by itself with the queue still open', async () => {
    const script = [
      "import { createElement as h } from 'react'",
      "import { renderToString } from 'react-dom/server'",
      "import { createQueue } from 'offthread'",
      "import { useCounts, useJob, useJobs, useQueueError, useRole } from 'offthread/react'",
      // As an app's module makes it: a browser Worker, which Node does not have (never called on a server).
      "const queue = createQueue({ name: 'ssr', worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }) })",
      'function App() {',
      '  const role = useRole(queue)',
      '  const { counts, state } = useCounts(queue)',
      "  const { jobs, state: listed } = useJobs(queue, { status: 'running' })",
      "  const byId = useJob(queue, 'some-id')",
      '  const error = useQueueError(queue)',
      "  return h('p', null, [role, state, counts.waiting, listed, jobs.length, byId.state, error ? error.name : 'no error'].join(' '))",
      '}',
      'console.log(renderToString(h(App)))',
    ].join('\n')
    const started = Date.now()
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 15_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message} (killed: ${String(error.killed)})\n${err}`)) : resolve({ stdout: out, stderr: err }),
      ),
    )
    expect(stdout.trim()).toBe('<p>follower loading 0 loading 0 loading no error</p>')
    expect(stderr).toBe('')
    // It ended on its own (execFile's timeout would have killed it, and rejected, at 15 s).
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
