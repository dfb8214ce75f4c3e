/**
 * The package as users get it: `npm pack`, installed into a fresh Vite app
 * whose files are the README's quick start, built, served, and run in Chromium and Firefox.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_ENGINES, launchBrowser, serveStatic } from './harness.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const reactVersion = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/react/package.json', import.meta.url)), 'utf8')) as { version: string }
).version
const work = fileURLToPath(new URL('../../test-results/packed-app/', import.meta.url))
const cleanups: Array<() => Promise<void> | void> = []

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
    expect(readdirSync(`${app}node_modules/offthread`).sort()).toEqual(['README.md', 'dist', 'package.json'])

    await build({
      root: app,
      configFile: false,
      logLevel: 'warn',
      build: { outDir: `${app}dist`, target: 'es2022', rollupOptions: { input: [`${app}index.html`, `${app}react.html`] } },
      worker: { format: 'es' },
    })
    const server = await serveStatic(`${app}dist`)
    cleanups.push(() => server.close())
    url = server.url
  }, 120_000)

  it.each(E2E_ENGINES)('in %s: defines a worker module, adds a job, sees its progress and gets its result', async (engine) => {
    const browser = await launchBrowser(engine)
    cleanups.push(() => browser.close())
    cleanups.push(() => browser.close())
    const page = await browser.newPage()
    const progress: number[] = []
    await page.exposeFunction('reportProgress', (value: number) => progress.push(value))
    await page.addInitScript(() => {
      // Record the progress bar's values as the page sets them.
      const descriptor = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value')
      Object.defineProperty(HTMLProgressElement.prototype, 'value', {
        ...descriptor,
        set(v: number) {
          ;(window as unknown as { reportProgress(v: number): void }).reportProgress(v)
          descriptor?.set?.call(this, v)
        },
      })
    })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(url)
    await page.waitForFunction(() => document.querySelector('#out')?.textContent?.startsWith('primes:'), null, { timeout: 30_000 })
    expect(await page.textContent('#out')).toBe('primes: 17984')
    expect(errors).toEqual([])
    expect(progress.length).toBeGreaterThan(0)
    expect(Math.max(...progress)).toBeGreaterThanOrEqual(50)
  })

  // Chromium (the React page passed in Firefox too while it was written; one engine keeps the suite within its time).
  it.each(['chromium'] as const)('in %s: offthread/react renders a live list, counts, role and a job to its result', async (engine) => {
    const browser = await launchBrowser(engine)
    cleanups.push(() => browser.close())
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${url}react.html`)
    await page.waitForFunction(() => document.querySelector('#role')?.textContent === 'runner')
    await page.click('#add')
    await page.waitForFunction(() => document.querySelector('#job')?.textContent?.startsWith('completed'), null, { timeout: 30_000 })
    expect(await page.textContent('#job')).toBe('completed 100 17984')
    await page.waitForFunction(() => document.querySelector('#counts')?.textContent === 'completed: 1')
    // The list and the counts are two live views, each told in its own frame: the list may follow a frame later.
    await page.waitForFunction(() => document.querySelector('#list')?.textContent === 'countPrimes completed', null, { timeout: 5_000 })
    expect(errors).toEqual([])
  })
})
