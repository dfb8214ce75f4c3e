// offthread/vue in real engines: composables in components mounted by Vue's createApp (render
// functions, no SFC compiler), against queues on IndexedDB with module workers. The tests wait
// for the DOM, as a user would see it.
import { createApp, defineComponent, effectScope, h, nextTick, ref, shallowRef, type App, type Component, type VNodeChild } from 'vue'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { JobHandle, Queue } from '../../src/index.js'
import { useCounts, useJob, useJobs, useQueueError, useRole } from '../../src/vue.js'
import { delay, makeQueue } from './fixtures/queue.js'
import type { Tasks } from './fixtures/tasks.worker.js'

const mounted: Array<{ app: App; container: HTMLElement }> = []

/** Mounts `component` into a fresh element of the page; unmounted after the test (before its queues close). */
function mount(component: Component, props?: Record<string, unknown>): HTMLElement {
  const container = document.createElement('div')
  document.body.append(container)
  const app = createApp(component, props)
  app.mount(container)
  mounted.push({ app, container })
  return container
}

/** Mounts a component made of `setup` alone (a plain function would be a functional component, run on each render). */
const mountSetup = (setup: () => () => VNodeChild): HTMLElement => mount(defineComponent(setup))

/** The text of the element with `data-testid="id"` in `container`. */
const text = (container: HTMLElement, id: string): string | null | undefined => container.querySelector(`[data-testid="${id}"]`)?.textContent

afterEach(() => {
  for (const { app, container } of mounted.splice(0)) {
    app.unmount()
    container.remove()
  }
})

describe('offthread/vue (createApp in the page)', () => {
  it('useJob(handle) shows each new progress, then the result and status completed', async () => {
    const queue = makeQueue()
    const handle = await queue.add('report', 40)
    const seen: string[] = []
    const Job = defineComponent({
      props: { job: { type: Object as () => JobHandle<string>, required: true } },
      setup(props) {
        const snap = useJob(() => props.job)
        return () => {
          const progress = typeof snap.value.progress === 'number' ? String(snap.value.progress) : 'none'
          seen.push(progress)
          return h('p', [
            h('span', { 'data-testid': 'status' }, snap.value.status),
            h('span', { 'data-testid': 'progress' }, progress),
            h('span', { 'data-testid': 'result' }, snap.value.result ?? ''),
          ])
        }
      },
    })
    const view = mount(Job, { job: handle })
    await vi.waitFor(() => expect(text(view, 'progress')).toMatch(/^\d+$/), { timeout: 5000, interval: 5 })
    await vi.waitFor(() => expect(text(view, 'status')).toBe('completed'), { timeout: 5000 })
    expect(text(view, 'result')).toBe('reported')
    await expect(handle.result()).resolves.toBe('reported')
    // Live on the way, not only at the end: several progress values were rendered, in order.
    const shown = [...new Set(seen.filter((p) => p !== 'none'))].map(Number)
    expect(shown.length).toBeGreaterThanOrEqual(3)
    expect(shown).toEqual([...shown].sort((a, b) => a - b))
  })

  it('useJob(ref) follows the handle the ref holds', async () => {
    const queue = makeQueue({ autostart: false })
    const first = await queue.add('double', 1)
    const second = await queue.add('double', 2)
    const current = shallowRef<JobHandle<number> | undefined>(first)
    const view = mountSetup(() => {
      const snap = useJob(current)
      return () => h('span', { 'data-testid': 'job' }, snap.value ? `${String(snap.value.data)}:${snap.value.status}` : 'none')
    })
    await vi.waitFor(() => expect(text(view, 'job')).toBe('1:waiting'), { timeout: 5000 })
    current.value = second
    await vi.waitFor(() => expect(text(view, 'job')).toBe('2:waiting'), { timeout: 5000 })
    queue.start()
    await vi.waitFor(() => expect(text(view, 'job')).toBe('2:completed'), { timeout: 5000 })
    current.value = undefined
    await vi.waitFor(() => expect(text(view, 'job')).toBe('none'), { timeout: 5000 })
  })

  it('useJobs follows adds and completions, newest first, and a reactive query', async () => {
    const queue = makeQueue({ autostart: false })
    const query = ref<{ status: 'waiting' | 'completed' }>({ status: 'waiting' })
    const view = mountSetup(() => {
      const all = useJobs(queue)
      const some = useJobs(queue, query)
      return () =>
        h('div', [
          h('span', { 'data-testid': 'state' }, all.state.value),
          h('span', { 'data-testid': 'all' }, all.jobs.value.map((job) => `${job.name}:${job.status}`).join(',')),
          h('span', { 'data-testid': 'some' }, some.jobs.value.map((job) => job.name).join(',')),
        ])
    })
    expect(text(view, 'state')).toBe('loading')
    await vi.waitFor(() => expect(text(view, 'state')).toBe('ready'), { timeout: 5000 })
    expect(text(view, 'all')).toBe('')
    await queue.add('double', 1)
    await queue.add('sleep', 400)
    await vi.waitFor(() => expect(text(view, 'all')).toBe('sleep:waiting,double:waiting'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'some')).toBe('sleep,double'), { timeout: 5000 })
    queue.start()
    await vi.waitFor(() => expect(text(view, 'all')).toMatch(/^sleep:running,double:(running|completed)$/), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'all')).toBe('sleep:completed,double:completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'some')).toBe(''), { timeout: 5000 })
    query.value = { status: 'completed' }
    await vi.waitFor(() => expect(text(view, 'some')).toBe('sleep,double'), { timeout: 5000 })
    // A reactive object's fields are followed too.
    query.value.status = 'waiting'
    await vi.waitFor(() => expect(text(view, 'some')).toBe(''), { timeout: 5000 })
  })

  it("useCounts follows adds and completions in this tab and another; useRole says 'runner' or 'follower'", async () => {
    const queue = makeQueue({ autostart: false })
    const follower = makeQueue({ name: queue.name, worker: undefined })
    const Status = defineComponent({
      props: { of: { type: Object as () => Queue<Tasks>, required: true }, id: { type: String, required: true } },
      setup(props) {
        const role = useRole(props.of)
        const { counts, state } = useCounts(props.of)
        return () =>
          h('span', { 'data-testid': props.id }, `${role.value} ${state.value} ${counts.value.waiting} waiting ${counts.value.completed} completed`)
      },
    })
    const view = mountSetup(() => () => h('div', [h(Status, { of: queue, id: 'runner' }), h(Status, { of: follower, id: 'follower' })]))
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner ready 0 waiting 0 completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower ready 0 waiting 0 completed'), { timeout: 5000 })
    await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'double', data: 2 },
      { name: 'double', data: 3 },
    ])
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner ready 3 waiting 0 completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower ready 3 waiting 0 completed'), { timeout: 5000 })
    queue.start()
    await queue.idle()
    await vi.waitFor(() => expect(text(view, 'runner')).toBe('runner ready 0 waiting 3 completed'), { timeout: 5000 })
    await vi.waitFor(() => expect(text(view, 'follower')).toBe('follower ready 0 waiting 3 completed'), { timeout: 5000 })
  })

  it('useJob(queue, ref(id)): loading, ready, deleted after remove(); missing for an unknown id or none', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 21)
    const id = ref<string | undefined>(job.id)
    const states: string[] = []
    let cancel: (() => Promise<boolean>) | undefined
    const view = mountSetup(() => {
      const { state, job: snap, handle } = useJob<number>(queue, id)
      return () => {
        states.push(state.value)
        cancel = handle.value ? () => handle.value!.cancel() : undefined
        return h('span', { 'data-testid': 'byId' }, snap.value ? `${state.value}:${String(snap.value.data)}:${snap.value.status}` : state.value)
      }
    })
    expect(states[0]).toBe('loading')
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('ready:21:waiting'), { timeout: 5000 })
    expect(cancel).toBeTypeOf('function')
    await expect(queue.remove(job.id)).resolves.toBe(true)
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('deleted'), { timeout: 5000 })
    expect(cancel).toBeUndefined()
    id.value = 'no-such-job'
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('missing'), { timeout: 5000 })
    id.value = undefined
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('missing'), { timeout: 5000 })
    // A job added later under the id asked for shows up, and follows its run.
    id.value = 'chosen-id'
    await nextTick()
    expect(text(view, 'byId')).toBe('loading')
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('missing'), { timeout: 5000 })
    await queue.add('double', 4, { id: 'chosen-id' })
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('ready:4:waiting'), { timeout: 5000 })
    queue.start()
    await vi.waitFor(() => expect(text(view, 'byId')).toBe('ready:4:completed'), { timeout: 5000 })
  })

  it('useJob(queue, id, name) is missing for a job of another task', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 1)
    const view = mountSetup(() => {
      const wrong = useJob(queue, job.id, 'sleep')
      const right = useJob(queue, job.id, 'double')
      return () => h('span', { 'data-testid': 'both' }, `${wrong.state.value} ${right.state.value}`)
    })
    await vi.waitFor(() => expect(text(view, 'both')).toBe('missing ready'), { timeout: 5000 })
  })

  it('in an effectScope: the refs follow the queue until the scope stops, then nothing listens', async () => {
    const queue = makeQueue({ autostart: false })
    const scope = effectScope()
    const { jobs, counts } = scope.run(() => ({ jobs: useJobs(queue).jobs, counts: useCounts(queue).counts }))!
    await queue.add('double', 1)
    await vi.waitFor(() => expect(jobs.value.length).toBe(1), { timeout: 5000 })
    await vi.waitFor(() => expect(counts.value.waiting).toBe(1), { timeout: 5000 })
    scope.stop()
    await queue.add('double', 2)
    await delay(200)
    expect(jobs.value.length).toBe(1)
    expect(counts.value.waiting).toBe(1)
    // The queue's shared views were let go: nothing is subscribed to them.
    expect((queue.watch() as unknown as { watched: boolean }).watched).toBe(false)
    expect((queue.watchCounts() as unknown as { watched: boolean }).watched).toBe(false)
  })

  it("useQueueError shows the queue's error event: a worker that cannot start", async () => {
    const queue = makeQueue({
      worker: () => new Worker(new URL('./fixtures/broken.worker.ts', import.meta.url), { type: 'module' }),
    })
    const view = mountSetup(() => {
      const error = useQueueError(queue)
      return () => h('span', { 'data-testid': 'error' }, error.value ? error.value.name : 'none')
    })
    expect(text(view, 'error')).toBe('none')
    await queue.add('double', 1)
    await vi.waitFor(() => expect(text(view, 'error')).toBe('WorkerError'), { timeout: 5000 })
  })

  it('the refs are read-only and hold the snapshots themselves (no proxy)', async () => {
    const queue = makeQueue({ autostart: false })
    const handle = await queue.add('double', 1)
    const scope = effectScope()
    const snap = scope.run(() => useJob(handle))!
    expect(snap.value).toBe(handle.getSnapshot())
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    ;(snap as { value: unknown }).value = undefined
    warn.mockRestore()
    expect(snap.value).toBe(handle.getSnapshot())
    scope.stop()
  })
})
