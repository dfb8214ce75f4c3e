/**
 * The package as users get it: `npm pack`, installed into a fresh Vite app
 * whose files are the README's quick start, built, served, and run in Chromium, Firefox
 * (Playwright) and WebKit (WebKitWebDriver).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type TabGroup } from './tabs.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const reactVersion = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/react/package.json', import.meta.url)), 'utf8')) as { version: string }
).version
const work = fileURLToPath(new URL('../../test-results/packed-app/', import.meta.url))
const cleanups: Array<() => Promise<void> | void> = []
/** While set, the server refuses the runner's chunk (a 404, as after a deploy that took it off); the refusals are counted. */
let refusing = false
let refused = 0
const RUNNER_CHUNK = /\/assets\/runner-chunk-[^/]*\.js/

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

describe('the packed package in a fresh Vite app', () => {
  let url: string
  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true })
    mkdirSync(work, { recursive: true })
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' })
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, stdio: 'pipe' })
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
    expect(tarball).toBeDefined()
    const app = `${work}app/`
    cpSync(fileURLToPath(new URL('./packed-app/', import.meta.url)), app, { recursive: true })
    writeFileSync(
      `${app}package.json`,
      JSON.stringify({
        name: 'packed-app',
        private: true,
        type: 'module',
        // react: the optional peer dependency of offthread/react, at the version this repository tests.
        dependencies: { offthread: `file:../${tarball}`, react: reactVersion, 'react-dom': reactVersion },
      }),
    )
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent'], { cwd: app, stdio: 'pipe' })
    // The installed package holds the build, not the sources or tests.
    expect(readdirSync(`${app}node_modules/offthread`).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json'])

    await build({
      root: app,
      configFile: false,
      logLevel: 'warn',
      build: { outDir: `${app}dist`, target: 'es2022', rollupOptions: { input: [`${app}index.html`, `${app}react.html`, `${app}offline.html`] } },
      worker: { format: 'es' },
    })
    const server = await serveStatic(`${app}dist`, (path) => refusing && RUNNER_CHUNK.test(path) && ++refused > 0)
    cleanups.push(() => server.close())
    url = server.url
  }, 120_000)

  for (const engine of ALL_ENGINES) {
    describe(`in ${ENGINE_NAMES[engine]}`, () => {
      let browser: EngineBrowser
      let tabs: TabGroup
      beforeAll(async () => {
        browser = await launchEngine(engine)
        tabs = await browser.group()
      })
      afterAll(async () => {
        await tabs?.close()
        await browser?.close()
      })

      it('defines a worker module, adds a job, sees its progress and gets its result', async () => {
        const page = await tabs.open()
        await page.goto(url)
        await page.waitFor(() => document.querySelector('#out')?.textContent?.startsWith('primes:'), undefined, { timeout: 30_000 })
        expect(await page.evaluate(() => document.querySelector('#out')?.textContent)).toBe('primes: 17984')
        // The page sets its progress bar from the job's progress events only.
        expect(await page.evaluate(() => (document.querySelector('#bar') as HTMLProgressElement).value)).toBeGreaterThanOrEqual(50)
        expect(await page.pageErrors()).toEqual([])
        await page.close()
      })

      it("the runner's chunk refused by the server (a deploy took it off): the tab says so and leaves the runner's place; another tab runs, and both jobs complete", async () => {
        refusing = true
        refused = 0
        const a = await tabs.open()
        await a.goto(`${url}offline.html`)
        // Its job is stored (nothing lost), and the queue's error event names what failed.
        await a.waitFor(
          () => document.querySelector('#added')?.textContent !== '' && document.querySelector('#errors')?.textContent?.includes('WorkerError'),
          undefined,
          {
            timeout: 15_000,
          },
        )
        expect(await a.evaluate(() => document.querySelector('#errors')?.textContent ?? '')).toMatch(
          /^WorkerError: queue "offline": this tab cannot run its jobs: offthread's runner code did not load \(.+\); another tab may run them, and this one tries again in 5 s$/m,
        )
        expect(refused).toBeGreaterThan(0)
        expect(await a.evaluate(() => document.querySelector('#out')?.textContent)).toBe('pending')
        // The chunk is back (or another tab has it): that tab takes the place and runs both jobs.
        refusing = false
        const b = await tabs.open()
        await b.goto(`${url}offline.html`)
        await b.waitFor(() => document.querySelector('#out')?.textContent === 'primes: 2262', undefined, { timeout: 30_000 })
        await a.waitFor(() => document.querySelector('#out')?.textContent === 'primes: 2262', undefined, { timeout: 30_000 })
        // Nothing unhandled: Firefox reports the refused load itself (a module "blocked because of a
        // disallowed MIME type"), and that is all.
        expect((await a.pageErrors()).filter((error) => !error.includes('/assets/runner-chunk-'))).toEqual([])
        expect(await b.pageErrors()).toEqual([])
        await a.close()
        await b.close()
      })

      it('offthread/react renders a live list, counts, role and a job to its result', async () => {
        const page = await tabs.open()
        await page.goto(`${url}react.html`)
        await page.waitFor(() => document.querySelector('#role')?.textContent === 'runner')
        await page.click('#add')
        await page.waitFor(() => document.querySelector('#job')?.textContent?.startsWith('completed'), undefined, { timeout: 30_000 })
        expect(await page.evaluate(() => document.querySelector('#job')?.textContent)).toBe('completed 100 17984')
        await page.waitFor(() => document.querySelector('#counts')?.textContent === 'completed: 1')
        // The list and the counts are two live views, each told in its own frame: the list may follow a frame later.
        await page.waitFor(() => document.querySelector('#list')?.textContent === 'countPrimes completed', undefined, { timeout: 5_000 })
        expect(await page.pageErrors()).toEqual([])
        await page.close()
      })
    })
  }
})
