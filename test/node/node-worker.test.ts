/** `nodeWorker` from offthread/node: the Web-Worker-like adapter over worker_threads. */
import { execFile } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'

await ensureDist()
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof import('../../src/index.js')
const { nodeWorker } = (await import(new URL('../../dist/node.js', import.meta.url).href)) as typeof import('../../src/node.js')

const open: Array<{ close(options: { timeout: number }): Promise<void> }> = []
const makeQueue = (options: Parameters<typeof lib.createQueue>[0]) => {
  const queue = lib.createQueue({ name: `node-worker-${Math.random()}`, store: lib.memoryStore(), ...options })
  open.push(queue)
  return queue
}
afterEach(async () => {
  for (const queue of open.splice(0)) await queue.close({ timeout: 0 }).catch(() => undefined)
})

const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('nodeWorker', () => {
  it('takes a path (relative to the working directory) as well as a URL', async () => {
    const queue = makeQueue({ worker: () => nodeWorker('test/conformance/tasks.worker.js') })
    expect(await (await queue.add('double', 2)).result()).toBe(4)
  })

  it('is Web-Worker-shaped: message events carry `data`, removeEventListener detaches, terminate() ends the thread', async () => {
    const worker = nodeWorker(new URL('../conformance/tasks.worker.js', import.meta.url))
    const seen: unknown[] = []
    const listener = (event: { data?: unknown }) => seen.push(event.data)
    worker.addEventListener('message', listener)
    // A Comlink GET of `manifest` on the exposed API.
    worker.postMessage({ id: 'probe', type: 'GET', path: ['manifest'] })
    await waitFor(() => seen.length > 0)
    expect(seen[0]).toMatchObject({ id: 'probe' })
    worker.removeEventListener('message', listener)
    const errors: unknown[] = []
    worker.addEventListener('error', (event) => errors.push(event))
    expect(typeof worker.threadId).toBe('number')
    await worker.terminate()
    expect(errors).toEqual([])
  })

  it('runs from `node --input-type=module -e` (whose flag a thread inherits and Node refuses for a file)', async () => {
    const script = [
      "import { createQueue, memoryStore } from 'offthread'",
      "import { nodeWorker } from 'offthread/node'",
      "const queue = createQueue({ store: memoryStore(), worker: () => nodeWorker('test/conformance/tasks.worker.js') })",
      "console.log(await (await queue.add('double', 5)).result())",
      'await queue.close()',
    ].join('\n')
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 10_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    )
    expect(stdout.trim()).toBe('10')
  })

  it('a module that throws at top level: a queue error event naming the error, and the job stays waiting', async () => {
    const queue = makeQueue({ worker: () => nodeWorker(new URL('./fixtures/broken.worker.js', import.meta.url)) })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const job = await queue.add('double' as never, 1)
    await waitFor(() => errors.length > 0)
    expect(errors[0]?.name).toBe('WorkerError')
    expect(String(errors[0]?.message) + String((errors[0]?.cause as Error | undefined)?.message)).toContain('broken at top level')
    expect(job.status).toBe('waiting')
  })

  it('a module that does not exist: a queue error event', async () => {
    const queue = makeQueue({ worker: () => nodeWorker(new URL('./fixtures/no-such.worker.js', import.meta.url)) })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    await queue.add('double' as never, 1)
    await waitFor(() => errors.length > 0)
    expect(errors[0]?.name).toBe('WorkerError')
  })

  it("groups on memoryStore: a group's concurrency holds beside other groups; a paused group waits until resumed", async () => {
    const queue = makeQueue({ worker: () => nodeWorker('test/conformance/tasks.worker.js'), concurrency: 3, groups: { concurrency: 1 } })
    const running = new Map<string, number>()
    const most = new Map<string, number>()
    queue.on('started', (job) => {
      const count = (running.get(job.group ?? '') ?? 0) + 1
      running.set(job.group ?? '', count)
      most.set(job.group ?? '', Math.max(most.get(job.group ?? '') ?? 0, count))
    })
    queue.on('completed', (job) => running.set(job.group ?? '', (running.get(job.group ?? '') ?? 1) - 1))
    await queue.groups.pause('held')
    const held = await queue.add('double', 1, { group: 'held' })
    const jobs = await queue.addBulk(
      ['a', 'a', 'a', 'b', 'b', 'b'].map((group) => ({ name: 'sleep' as never, data: 20 as never, options: { group } })),
    )
    expect(await Promise.all(jobs.map((job) => job.result()))).toEqual([20, 20, 20, 20, 20, 20])
    expect([most.get('a'), most.get('b')]).toEqual([1, 1])
    expect(held.status).toBe('waiting')
    expect(await queue.groups.counts('held')).toEqual({ waiting: 1, delayed: 0, blocked: 0, running: 0, paused: true, limits: { concurrency: 1 } })
    await queue.groups.resume('held')
    expect(await held.result()).toBe(2)
  })
})
