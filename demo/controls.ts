import type { JobStatus } from 'offthread'
import { concurrency, defaultConcurrency, queue } from './queue'
import { finishedIds, forget, select, upsert } from './table'

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!

export function initControls(): void {
  const pool = $<HTMLSelectElement>('#concurrency')
  const choices = [...new Set([1, 2, 3, 4, 6, 8, defaultConcurrency, concurrency])].sort((a, b) => a - b)
  pool.replaceChildren(
    ...choices.map(
      (n) => new Option(`${n} worker${n === 1 ? '' : 's'}${n === defaultConcurrency ? ' (default)' : ''}`, String(n), false, n === concurrency),
    ),
  )
  pool.onchange = () => {
    // The pool size is fixed when the queue is created, so a new size means a new page.
    const url = new URL(location.href)
    url.searchParams.set('concurrency', pool.value)
    location.assign(url)
  }

  const pause = $<HTMLButtonElement>('#pause')
  pause.onclick = () => {
    const paused = pause.dataset['paused'] === 'true'
    if (paused) queue.resume()
    else queue.pause()
    pause.dataset['paused'] = String(!paused)
    pause.textContent = paused ? 'Pause' : 'Resume'
    note(paused ? 'resumed: taking new jobs' : 'paused: running jobs finish, new ones wait')
  }

  $<HTMLButtonElement>('#bulk').onclick = async () => {
    const t0 = performance.now()
    await queue.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'small' as const, data: i })))
    note(`1,000 jobs stored in one transaction in ${Math.round(performance.now() - t0)} ms`)
  }

  $<HTMLButtonElement>('#stuck').onclick = async () => {
    // Priority: it starts even behind a render or a thousand small jobs.
    const job = await queue.add('stuck', 60, { priority: 5 })
    upsert(job.toJSON())
    void select(job.id)
    note('a busy loop that never checks its signal: cancel it and the worker is terminated after abortGrace (1 s)')
  }

  $<HTMLButtonElement>('#flaky').onclick = async () => {
    const job = await queue.add('flaky', null, { retry: { attempts: 3, delay: 500 }, priority: 5 })
    upsert(job.toJSON())
    void select(job.id)
    note('fails on attempts 1 and 2, succeeds on attempt 3 (retry: { attempts: 3, delay: 500 })')
  }

  $<HTMLButtonElement>('#clean').onclick = async () => {
    const ids = finishedIds()
    const n = await queue.clean({ status: ['completed', 'failed', 'cancelled'] })
    forget(ids)
    note(`removed ${n} finished jobs from IndexedDB`)
  }

  initRole()
  initCounts()
}

function note(text: string): void {
  $('#note').textContent = text
}

function initRole(): void {
  const banner = $('#role')
  const show = (role: 'runner' | 'follower'): void => {
    banner.dataset['role'] = role
    banner.innerHTML =
      role === 'runner'
        ? '<strong>This tab is the runner</strong>: its workers run the jobs of every tab. Open this page in a second tab to see it follow.'
        : '<strong>This tab is a follower</strong>: another tab runs the jobs; this one adds, watches and cancels them. Close the runner tab and this one takes over.'
  }
  show(queue.role)
  queue.on('role', show)
}

// Counts come from the store, so they cover every job, not only the table's newest 200.
function initCounts(): void {
  const el = $('#counts')
  let timer: ReturnType<typeof setTimeout> | undefined
  const refresh = (): void => {
    if (timer) return
    timer = setTimeout(() => void show(), 300)
  }
  const show = async (): Promise<void> => {
    timer = undefined
    const counts = await queue.counts()
    const shown: JobStatus[] = ['waiting', 'delayed', 'running', 'completed', 'failed', 'cancelled']
    el.replaceChildren(
      ...shown.map((status) => {
        const span = document.createElement('span')
        span.dataset['status'] = status
        span.textContent = `${counts[status] ?? 0} ${status}`
        return span
      }),
    )
  }
  for (const event of ['added', 'started', 'completed', 'failed', 'cancelled', 'retrying', 'idle'] as const) queue.on(event, refresh)
  refresh()
}
