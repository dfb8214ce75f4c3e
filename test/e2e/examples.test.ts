/**
 * The browser examples (examples/image-tool, examples/upload-queue), built as an app of
 * their own would build them (scripts/build-examples.mjs), served, and used as a person
 * would in Chromium, Firefox and WebKit: files chosen in an <input>, progress, a cancel,
 * the result; uploads that wait offline and go once online.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildExample } from '../../scripts/build-examples.mjs'
import { serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type Tab, type TabGroup } from './tabs.js'

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** What the upload endpoint received: each file's name and size. */
const received: Array<{ name: string; bytes: number }> = []
function uploadEndpoint(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'POST' || !request.url?.endsWith('/upload')) return false
  let bytes = 0
  request.on('data', (chunk: Buffer) => (bytes += chunk.length))
  request.on('end', () => {
    received.push({ name: decodeURIComponent(String(request.headers['x-file-name'])), bytes })
    response.end(`stored-${received.length}`)
  })
  return true
}

/** Chooses a generated PNG of `width`×`height` in the page's file input, as a person picking a file would. */
function choosePng(tab: Tab, width: number, height: number, name: string): Promise<void> {
  return tab.evaluate(
    async ({ width, height, name }) => {
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const g = canvas.getContext('2d') as CanvasRenderingContext2D
      for (let i = 0; i < 8; i++) {
        g.fillStyle = `hsl(${i * 45} 80% 50%)`
        g.fillRect((i * width) / 8, 0, width / 8, height)
      }
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b as Blob), 'image/png'))
      const input = document.querySelector('#files') as HTMLInputElement
      const files = new DataTransfer()
      files.items.add(new File([blob], name, { type: 'image/png' }))
      input.files = files.files
      input.dispatchEvent(new Event('change', { bubbles: true }))
    },
    { width, height, name },
  )
}

describe('the examples', () => {
  let imageTool: string
  let uploadQueue: string
  beforeAll(async () => {
    const image = await serveStatic(await buildExample('image-tool'))
    const upload = await serveStatic(await buildExample('upload-queue'), undefined, uploadEndpoint)
    cleanups.push(
      () => image.close(),
      () => upload.close(),
    )
    imageTool = image.url
    uploadQueue = upload.url
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

      it('image-tool: a PNG chosen is shrunk in the worker by the WASM codec, with progress; a big one is cancelled from its row', async () => {
        const page = await tabs.open()
        await page.goto(imageTool)
        await page.waitFor(() => document.querySelector('#files') !== null)
        await choosePng(page, 64, 48, 'small.png')
        await page.waitFor(() => document.querySelector<HTMLImageElement>('#jobs li[data-status="completed"] img')?.naturalWidth === 32, undefined, {
          timeout: 30_000,
        })
        expect(await page.evaluate(() => document.querySelector('#jobs li[data-status="completed"]')?.textContent)).toMatch(/32×24, codec \d+\.\d ms/)
        expect(await page.evaluate(() => (document.querySelector('#jobs li[data-status="completed"] progress') as HTMLProgressElement).value)).toBe(
          100,
        )
        // A big image: cancelled from its row while it waits or runs.
        await choosePng(page, 4000, 4000, 'big.png')
        await page.waitFor(() => document.querySelector('#jobs li:not([data-status="completed"]) button.cancel') !== null, undefined, {
          timeout: 30_000,
        })
        await page.click('#jobs li:not([data-status="completed"]) button.cancel')
        await page.waitFor(() => document.querySelector('#jobs li[data-status="cancelled"]') !== null, undefined, { timeout: 30_000 })
        expect(await page.evaluate(() => document.querySelector('#counts')?.textContent)).toMatch(/^1 done, 0 running, 0 waiting$/)
        expect(await page.pageErrors()).toEqual([])
        await page.close()
      })

      it('upload-queue: offline, an upload waits for the network (and says so); online, it goes, its attempt unused', async () => {
        const before = received.length
        const page = await tabs.open()
        await page.goto(uploadQueue)
        // This tab runs the queue (its runner watches the network from then on).
        await page.waitFor(() => document.querySelector('#role')?.textContent === 'runner', undefined, { timeout: 30_000 })
        await page.evaluate(() => void dispatchEvent(new Event('offline')))
        await choosePng(page, 8, 8, `offline-${Date.now()}.png`)
        await page.waitFor(() => document.querySelector('#jobs li[data-waiting-for="network"]') !== null, undefined, { timeout: 30_000 })
        expect(await page.evaluate(() => document.querySelector('#network')?.textContent)).toBe('offline: uploads wait')
        expect(received.length).toBe(before)
        await page.evaluate(() => void dispatchEvent(new Event('online')))
        await page.waitFor(
          () => document.querySelector('#jobs li[data-status="completed"]')?.textContent?.includes('uploaded as stored-'),
          undefined,
          {
            timeout: 30_000,
          },
        )
        expect(await page.evaluate(() => document.querySelector('#jobs li[data-status="completed"]')?.textContent)).toMatch(
          /^offline-\d+\.png · [0-9a-f]{8}: uploaded as stored-\d+, attempt 1$/,
        )
        expect(received.length).toBe(before + 1)
        expect(received.at(-1)?.name).toMatch(/^offline-\d+\.png$/)
        expect(received.at(-1)?.bytes).toBeGreaterThan(0)
        expect(await page.pageErrors()).toEqual([])
        await page.close()
      })
    })
  }
})
