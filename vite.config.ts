/// <reference types="@vitest/browser-playwright" />
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { playwright } from '@vitest/browser-playwright'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET_CHROMIUM } from './scripts/chromium-path.mjs'

// One config for three things:
//  - `vitest run`            -> projects "node", "browser", "types" (root = repo root)
//  - `vite demo --config …`  -> dev server for demo/index.html (root = demo/)
//  - `vite build demo …`     -> static demo in dist-demo/
const repoRoot = fileURLToPath(new URL('.', import.meta.url))

const isVitest = process.env['VITEST'] !== undefined
const chromium = isVitest ? await findChromium() : undefined
if (isVitest && !chromium) {
  console.warn(`[vite.config] ${HOW_TO_GET_CHROMIUM}`)
}

const chromiumArgs = [...CHROMIUM_ARGS]

export default defineConfig({
  // Relative asset URLs: the built demo works from any folder of a static host.
  ...(isVitest ? {} : { base: './' }),
  // The demo imports the package by its name, as an app would.
  resolve: {
    alias: [
      { find: /^offthread\/worker$/, replacement: fileURLToPath(new URL('./src/worker.ts', import.meta.url)) },
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
      exclude: ['src/**/*.d.ts'],
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
          // Playwright against built pages: the packed package, reloads, several tabs.
          name: 'e2e',
          root: repoRoot,
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
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
            include: ['test/types/**/*.test-d.ts'],
          },
        },
      },
      {
        // Precaution: pre-bundle the runtime deps so Vite never discovers them
        // mid-run (a mid-run re-optimisation reloads the test iframe).
        optimizeDeps: { include: ['comlink', 'idb', 'nanoid'] },
        test: {
          name: 'browser',
          root: repoRoot,
          include: ['test/browser/**/*.test.ts', 'test/adversarial/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                ...(chromium ? { executablePath: chromium.path } : {}),
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
