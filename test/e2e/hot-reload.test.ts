/**
 * Hot reload (API.md section 2): a module re-run by Vite's dev server calls
 * `createQueue` again with the name of the queue it made before. The second
 * queue replaces the first: the first closes and hands its running jobs over
 * as a closed tab would, a console warning says so, and no job runs twice at
 * once. Real Vite dev server, real HMR, an edited module, real browsers.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser } from './tabs.js'

type Run = { id: string; at: 'start' | 'end' }
declare const window: Window &
  typeof globalThis & {
    queue: {
      role: string
      add(name: 'work', ms: number): Promise<{ id: string }>
      idle(): Promise<void>
      list(options: object): Promise<Array<{ id: string; status: string }>>
    }
    first: { add(name: 'work', ms: number): Promise<unknown> }
    generation: number
    warnings: string[]
    runs: Run[]
    marker: string
  }

const repo = fileURLToPath(new URL('../../', import.meta.url))
const src = (file: string): string => join(repo, 'src', file)

/** Copies the fixture to a folder of its own (the test edits it) and serves it with Vite's dev server. */
async function serveDev(): Promise<{ root: string; server: ViteDevServer; url: string }> {
  // Outside the repository: Vite's watcher ignores test-results/ (and an edit there would never reload).
  const root = mkdtempSync(join(tmpdir(), 'offthread-hot-'))
  cpSync(fileURLToPath(new URL('./hot-fixture/', import.meta.url)), root, { recursive: true })
  const server = await createServer({
    configFile: false,
    logLevel: 'warn',
    root,
    resolve: {
      alias: [
        { find: /^offthread\/worker$/, replacement: src('worker.ts') },
        { find: /^offthread$/, replacement: src('index.ts') },
      ],
    },
    // No dependency pre-bundling: its discovery would reload the page in the middle of the test.
    optimizeDeps: { noDiscovery: true, include: [] },
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [repo, root] } },
  })
  await server.listen()
  const address = server.httpServer?.address()
  if (!address || typeof address === 'string') throw new Error('the Vite dev server did not listen on a port')
  return { root, server, url: `http://127.0.0.1:${address.port}/` }
}

/** Whether any job started again before its previous run ended. */
function overlaps(runs: Run[]): string[] {
  const open = new Map<string, number>()
  const twice: string[] = []
  for (const run of runs) {
    const n = open.get(run.id) ?? 0
    if (run.at === 'start' && n > 0) twice.push(run.id)
    open.set(run.id, run.at === 'start' ? n + 1 : n - 1)
  }
  return twice
}

for (const engine of ALL_ENGINES) {
  describe(`hot reload in ${ENGINE_NAMES[engine]}`, () => {
    let browser: EngineBrowser
    let dev: Awaited<ReturnType<typeof serveDev>>

    beforeAll(async () => {
      ;[browser, dev] = await Promise.all([launchEngine(engine), serveDev()])
    })

    afterAll(async () => {
      await browser?.close()
      await dev?.server.close()
      if (dev) rmSync(dev.root, { recursive: true, force: true })
    })

    it('an edited module re-runs createQueue: the new queue replaces the open one, running jobs move over, none runs twice at once', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      await page.goto(dev.url)
      await page.waitFor(() => window.generation === 1 && window.queue.role === 'runner')
      const ids = await page.evaluate(async () => {
        window.marker = 'same page'
        window.first = window.queue
        const handles = await Promise.all([1, 2, 3, 4].map(() => window.queue.add('work', 1200)))
        return handles.map((h) => h.id)
      })
      // Two jobs running in the first queue's workers.
      await page.waitFor(() => window.runs.filter((r) => r.at === 'start').length >= 2)

      const main = join(dev.root, 'main.ts')
      writeFileSync(main, readFileSync(main, 'utf8').replace('const GENERATION = 1', 'const GENERATION = 2'))
      await page.waitFor(() => window.generation === 2, undefined, { timeout: 15_000 })

      // The module re-ran in place (no page reload), and said what it did.
      expect(await page.evaluate(() => window.marker)).toBe('same page')
      const warnings = await page.evaluate(() => window.warnings)
      expect(warnings.filter((w) => w.includes('a queue named "hot" is open in this page'))).toHaveLength(1)

      // The new queue takes the runner lock once the old one let it go, and runs every job to the end.
      await page.waitFor(() => window.queue.role === 'runner', undefined, { timeout: 10_000 })
      await page.evaluate(() => window.queue.idle())
      const jobs = await page.evaluate(() => window.queue.list({ limit: Infinity }))
      expect(jobs.map((j) => j.id).sort()).toEqual([...ids].sort())
      expect(jobs.every((j) => j.status === 'completed')).toBe(true)

      const runs = await page.evaluate(() => window.runs)
      expect(overlaps(runs), 'jobs that ran twice at once').toEqual([])
      // The old queue is closed: its callers hear so instead of adding to a queue nobody runs.
      const old = await page.evaluate(() =>
        window.first.add('work', 1).then(
          () => 'added',
          (e: Error) => e.name,
        ),
      )
      expect(old).toBe('QueueClosedError')
      await tabs.close()
    })
  })
}
