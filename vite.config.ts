/// <reference types="@vitest/browser-playwright" />
import { fileURLToPath } from 'node:url'
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'
import { webdriverio } from '@vitest/browser-webdriverio'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { CHROMIUM_ARGS, FIREFOX_PREFS, findBrowser, HOW_TO_GET, type LocatedWebKit } from './scripts/browsers.mjs'
import { tolerateUnknownEmulationCommands } from './scripts/firefox-bidi.mjs'
import { startWebKit } from './scripts/webkit-driver.mjs'

// One config for three things:
//  - `vitest run`            -> projects "node", "browser", "types" (root = repo root)
//  - `vite demo --config …`  -> dev server for demo/index.html (root = demo/)
//  - `vite build demo …`     -> static demo in dist-demo/
const repoRoot = fileURLToPath(new URL('.', import.meta.url))

const isVitest = process.env['VITEST'] !== undefined

/** The browser tests (test/browser and the adversarial suite), the same files in each engine. */
const BROWSER_TESTS = ['test/browser/**/*.test.ts', 'test/adversarial/**/*.test.ts']

/**
 * One Vitest project per engine. A missing browser is an error (`pretest` installs or
 * explains): the project is defined anyway and fails when it starts, saying how to get it.
 */
async function browserProject(engine: 'chromium' | 'firefox' | 'webkit'): Promise<TestProjectInlineConfiguration> {
  const found = isVitest ? await findBrowser(engine) : undefined
  const missing = () => {
    throw new Error(HOW_TO_GET[engine])
  }
  const common = {
    // Precaution: pre-bundle the runtime deps so Vite never discovers them
    // mid-run (a mid-run re-optimisation reloads the test iframe).
    // Everything the tests import from node_modules, found up front: a dependency discovered mid-run reloads the test page.
    optimizeDeps: { include: ['comlink', 'idb', 'nanoid', 'react', 'react-dom/client', 'vue'] },
    // The Svelte example's test (test/browser/svelte.test.ts) imports examples/svelte/*.svelte.
    plugins: [svelte({ configFile: false })],
  }
  // expect.poll waits 5 s (not 1): a CI run on 2 busy cores made a 1 s poll of the inspector flaky.
  const test = {
    name: engine,
    root: repoRoot,
    // Every browser test runs in every engine (a test that needs one engine's own tool, CDP, is in a describe named so).
    include: BROWSER_TESTS,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    expect: { poll: { timeout: 5000 } },
  }
  const project = (
    provider: NonNullable<NonNullable<TestProjectInlineConfiguration['test']>['browser']>['provider'],
    instance: 'chromium' | 'firefox' | 'safari',
    headless = true,
  ): TestProjectInlineConfiguration => ({
    ...common,
    test: { ...test, browser: { enabled: true, headless, screenshotFailures: false, provider, instances: [{ browser: instance }] } },
  })
  if (engine === 'chromium') {
    return project(playwright({ launchOptions: { executablePath: found?.path ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS] } }), 'chromium')
  }
  if (engine === 'firefox') {
    if (isVitest && found) tolerateUnknownEmulationCommands()
    // Playwright over WebDriver BiDi: the system Firefox as it is (no Playwright build, no geckodriver).
    const launchOptions = { channel: 'moz-firefox', executablePath: found?.path ?? '/usr/bin/firefox-esr', firefoxUserPrefs: { ...FIREFOX_PREFS } }
    return project(playwright({ launchOptions }), 'firefox')
  }
  // WebKit: WebKitGTK's MiniBrowser through WebKitWebDriver, on a private Xvfb display (it
  // has no headless mode, hence `headless: false`). The driver lives as long as the
  // provider: Vitest closes providers after it has run globalSetup's teardown.
  const webkit = found as LocatedWebKit | undefined
  const base = webdriverio({
    hostname: '127.0.0.1',
    // Vitest names the instance `safari`; WebKitWebDriver answers only to `MiniBrowser`.
    transformRequest: (request: RequestInit) =>
      typeof request.body === 'string' && request.body.includes('"browserName":"safari"')
        ? { ...request, body: request.body.replaceAll('"browserName":"safari"', '"browserName":"MiniBrowser"') }
        : request,
  })
  const provider: typeof base = {
    ...base,
    providerFactory(project) {
      const instance = base.providerFactory(project) as ReturnType<typeof base.providerFactory> & {
        openBrowser(): Promise<unknown>
        close(): Promise<void>
        options: Record<string, unknown>
      }
      let driver: Awaited<ReturnType<typeof startWebKit>> | undefined
      const open = instance.openBrowser.bind(instance)
      const close = instance.close.bind(instance)
      instance.openBrowser = async () => {
        if (!webkit) missing()
        driver ??= await startWebKit(webkit!)
        instance.options['port'] = driver.port
        instance.options['capabilities'] = driver.capabilities
        return open()
      }
      instance.close = async () => {
        try {
          await close()
        } finally {
          await driver?.stop()
          driver = undefined
        }
      }
      return instance
    },
  }
  return project(provider, 'safari', false)
}

export default defineConfig({
  // Relative asset URLs: the built demo works from any folder of a static host.
  ...(isVitest ? {} : { base: './' }),
  // The demo imports the package by its name, as an app would.
  resolve: {
    alias: [
      { find: /^offthread\/worker$/, replacement: fileURLToPath(new URL('./src/worker.ts', import.meta.url)) },
      { find: /^offthread\/store$/, replacement: fileURLToPath(new URL('./src/store.ts', import.meta.url)) },
      { find: /^offthread\/react$/, replacement: fileURLToPath(new URL('./src/react.ts', import.meta.url)) },
      { find: /^offthread\/vue$/, replacement: fileURLToPath(new URL('./src/vue.ts', import.meta.url)) },
      { find: /^offthread\/inspector$/, replacement: fileURLToPath(new URL('./src/inspector.ts', import.meta.url)) },
      { find: /^offthread$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  build: {
    // Only used by `npm run build:demo` (root = demo/): output outside that root.
    outDir: fileURLToPath(new URL('./dist-demo', import.meta.url)),
    emptyOutDir: true,
  },
  test: {
    dir: repoRoot,
    // `npm run coverage`: the node and browser projects (v8 in Node; in Chromium over CDP).
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // sqliteStore runs in Deno and Bun subprocesses (CI's Node 20 has no node:sqlite), which this run's V8 coverage cannot see.
      exclude: ['src/**/*.d.ts', 'src/store/sqlite-store.ts', 'src/sqlite.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: './test-results/coverage',
      // The floor, a little under the figures measured when it was set (see CONTRIBUTING.md).
      // Code run inside a Worker or a worker_thread, and tests that import dist/, are not measured.
      thresholds: { lines: 87, statements: 84, branches: 80, functions: 85 },
    },
    projects: [
      {
        test: {
          name: 'node',
          root: repoRoot,
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          // Built pages in Chromium and Firefox (Playwright) and WebKit (WebKitWebDriver): the packed package, reloads, several tabs.
          name: 'e2e',
          root: repoRoot,
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // One file at a time: two at once (tried) made timing-sensitive tests fail on 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'types',
          root: repoRoot,
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            checker: 'tsc',
            tsconfig: './tsconfig.json',
            include: ['test/types/**/*.test-d.ts', 'test/types/**/*.test-d.tsx'],
          },
        },
      },
      await browserProject('chromium'),
      await browserProject('firefox'),
      await browserProject('webkit'),
    ],
  },
})
