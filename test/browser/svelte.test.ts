// The Svelte 5 example (examples/svelte/Jobs.svelte) in real engines: compiled by
// @sveltejs/vite-plugin-svelte, mounted with Svelte's mount(), against queues on IndexedDB
// with module workers. offthread's live views and handles are Svelte stores as they are.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { JobHandle, Queue, TaskMap } from '../../src/index.js'
import Jobs from '../../examples/svelte/Jobs.svelte'
import { makeQueue } from './fixtures/queue.js'

const mounted: Array<{ app: Record<string, unknown>; container: HTMLElement }> = []

/** Mounts the example into a fresh element of the page; unmounted after the test (before its queues close). */
function render(props: { queue: Queue<TaskMap>; job?: JobHandle; limit?: number }): HTMLElement {
  const container = document.createElement('div')
  document.body.append(container)
  const app = mount(Jobs, { target: container, props })
  flushSync()
  mounted.push({ app, container })
  return container
}

const text = (container: HTMLElement, id: string): string | undefined =>
  container.querySelector(`[data-testid="${id}"]`)?.textContent?.replace(/\s+/g, ' ').trim()
const items = (container: HTMLElement): string[] => [...container.querySelectorAll('[data-testid="jobs"] li')].map((li) => li.textContent ?? '')

afterEach(async () => {
  for (const { app, container } of mounted.splice(0)) {
    await unmount(app)
    container.remove()
  }
})

describe('examples/svelte/Jobs.svelte (Svelte 5, mount() in the page)', () => {
  it("{$job.progress} follows a job's progress to its result", async () => {
    const queue = makeQueue()
    const job = await queue.add('report', 40)
    const seen = new Set<string>()
    const view = render({ queue: queue as unknown as Queue<TaskMap>, job })
    const observer = new MutationObserver(() => seen.add(text(view, 'job') ?? ''))
    observer.observe(view, { subtree: true, childList: true, characterData: true })
    await vi.waitFor(() => expect(text(view, 'job')).toBe('report: completed → reported'), { timeout: 5000 })
    observer.disconnect()
    // Live on the way: several progress values were shown, in order.
    const shown = [...seen]
      .map((line) => line.match(/^report: running \((\d+) %\)/)?.[1])
      .filter((p) => p !== undefined)
      .map(Number)
    expect(shown.length).toBeGreaterThanOrEqual(3)
    expect(shown).toEqual([...shown].sort((a, b) => a - b))
  })

  it('{#each $jobs} and $counts follow adds, completions and removals', async () => {
    const queue = makeQueue({ autostart: false })
    const view = render({ queue: queue as unknown as Queue<TaskMap> })
    await vi.waitFor(() => expect(text(view, 'counts')).toBe('0 waiting, 0 running, 0 completed'), { timeout: 5000 })
    expect(items(view)).toEqual([])
    const first = await queue.add('double', 1)
    await queue.add('sleep', 50)
    await vi.waitFor(() => expect(items(view)).toEqual(['sleep: waiting', 'double: waiting']), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'counts')).toBe('2 waiting, 0 running, 0 completed'), { timeout: 5000 })
    queue.start()
    await vi.waitFor(() => expect(items(view)).toEqual(['sleep: completed', 'double: completed']), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'counts')).toBe('0 waiting, 0 running, 2 completed'), { timeout: 5000 })
    await queue.remove(first.id)
    await vi.waitFor(() => expect(items(view)).toEqual(['sleep: completed']), { timeout: 5000 })
  })

  it('the cancel button cancels the job it follows', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 10_000)
    const view = render({ queue: queue as unknown as Queue<TaskMap>, job })
    await vi.waitFor(() => expect(text(view, 'job')).toBe('sleep: running Cancel'), { timeout: 5000 })
    view.querySelector('button')!.click()
    await vi.waitFor(() => expect(text(view, 'job')).toBe('sleep: cancelled'), { timeout: 5000 })
    await vi.waitFor(() => expect(items(view)).toEqual(['sleep: cancelled']), { timeout: 5000 })
  })
})
