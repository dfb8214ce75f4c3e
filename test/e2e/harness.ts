/**
 * Shared pieces of the end-to-end tests: system Chromium through Playwright,
 * and a Vite server on 127.0.0.1 started and stopped by the test itself.
 */
import { chromium, type Browser } from 'playwright'
import { preview, type PreviewServer } from 'vite'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET_CHROMIUM } from '../../scripts/chromium-path.mjs'

/** Launches headless system Chromium (or fails saying how to get one). */
export async function launchChromium(): Promise<Browser> {
  const found = await findChromium()
  if (!found) throw new Error(HOW_TO_GET_CHROMIUM)
  return chromium.launch({ executablePath: found.path, headless: true, args: [...CHROMIUM_ARGS] })
}

/** Serves a built folder with `vite preview` on a free port of 127.0.0.1. */
export async function serveStatic(outDir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  })
  const address = server.httpServer.address()
  if (!address || typeof address === 'string') throw new Error('vite preview did not listen on a port')
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => server.close(),
  }
}

/** Builds the Playwright fixture page (test/e2e/fixture) into `outDir`, importing offthread from src/. */
export async function buildFixture(outDir: string): Promise<void> {
  const { build } = await import('vite')
  const { fileURLToPath } = await import('node:url')
  const src = (file: string): string => fileURLToPath(new URL(`../../src/${file}`, import.meta.url))
  await build({
    configFile: false,
    logLevel: 'warn',
    root: fileURLToPath(new URL('./fixture/', import.meta.url)),
    resolve: {
      alias: [
        { find: /^offthread\/worker$/, replacement: src('worker.ts') },
        { find: /^offthread$/, replacement: src('index.ts') },
      ],
    },
    build: { outDir, emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
  })
}
