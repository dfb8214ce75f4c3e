// The bench page: every scenario and baseline, called by bench/run.mjs through Playwright.
import { createQueue, idbStore, memoryStore, type Queue } from 'offthread'
import type { Store } from 'offthread/store'
import workerpool from 'workerpool'
import { JOB_INDEXES } from '../../src/store/idb-schema.js'
import wpUrl from './wp.worker.ts?worker&url'
import type { Tasks } from './offthread.worker'
import type { BatchTasks } from './batch.worker'

const N = Number(new URLSearchParams(location.search).get('workers') ?? 2)
const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. '.repeat(8)
let dbNo = 0
const freshName = (): string => `bench-${Date.now()}-${++dbNo}`
const offthreadWorker = (): Worker => new Worker(new URL('./offthread.worker.ts', import.meta.url), { type: 'module' })
const rawWorker = (): Worker => new Worker(new URL('./raw.worker.ts', import.meta.url), { type: 'module' })

function makeQueue(store: Store, extra: Parameters<typeof createQueue>[0] = {}): Queue<Tasks> {
  return createQueue<Tasks>({ name: freshName(), worker: offthreadWorker, concurrency: N, store, retention: { completed: false }, ...extra })
}

async function dropDatabases(): Promise<void> {
  for (const db of await indexedDB.databases()) if (db.name) indexedDB.deleteDatabase(db.name)
}

/** Starts workers and runs a few jobs so start-up is not measured. */
async function warm(queue: Queue<Tasks>): Promise<void> {
  await Promise.all((await queue.addBulk(Array.from({ length: N * 4 }, () => ({ name: 'noop' as const, data: null })))).map((h) => h.result()))
}

function longTasks(): { stop(): { count: number; max: number } } {
  const durations: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration)
  })
  observer.observe({ type: 'longtask', buffered: false })
  return {
    stop() {
      for (const entry of observer.takeRecords()) durations.push(entry.duration)
      observer.disconnect()
      return { count: durations.filter((d) => d >= 50).length, max: Math.max(0, ...durations) }
    },
  }
}

/** The intervals between animation frames (ms) while it runs: what a page's smoothness is. */
function frameTimes(): { stop(): { frameP50: number; frameP99: number; frameMax: number; frames: number } } {
  const intervals: number[] = []
  let last = performance.now()
  let running = true
  const tick = (now: number): void => {
    intervals.push(now - last)
    last = now
    if (running) requestAnimationFrame(tick)
  }
  requestAnimationFrame((now) => {
    last = now
    requestAnimationFrame(tick)
  })
  return {
    stop() {
      running = false
      return {
        frameP50: percentile(intervals, 50),
        frameP99: percentile(intervals, 99),
        frameMax: Math.max(0, ...intervals),
        frames: intervals.length,
      }
    },
  }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

/**
 * How long each of offthread's readwrite transactions stays open (ms), from its start to its
 * commit, while it is measured: what a page stopped mid-transaction would hold other tabs up by.
 */
function transactionTimes(): {
  stop(): { txP50: number; txP99: number; txMax: number; txCount: number; pageP50: number; pageP99: number; pageMax: number }
} {
  const key = Symbol.for('offthread.transaction')
  const times: number[] = []
  const page: number[] = []
  ;(globalThis as { [key: symbol]: unknown })[key] = (mode: IDBTransactionMode, ms: number, pageMs: number) => {
    if (mode !== 'readwrite') return
    times.push(ms)
    page.push(pageMs)
  }
  return {
    stop() {
      delete (globalThis as { [key: symbol]: unknown })[key]
      const open = times.sort((a, b) => a - b)
      const needed = page.sort((a, b) => a - b)
      return {
        txP50: percentile(open, 50),
        txP99: percentile(open, 99),
        txMax: open.at(-1) ?? 0,
        txCount: open.length,
        // The part that needs the page to run (until the last request is issued): what a freeze in it holds up.
        pageP50: percentile(needed, 50),
        pageP99: percentile(needed, 99),
        pageMax: needed.at(-1) ?? 0,
      }
    },
  }
}

const heap = (): number => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN
}

/** A job record and payload shaped like offthread's, for the raw IndexedDB baseline. */
const record = (i: number) => ({
  id: `job-${i}-${Math.random().toString(36).slice(2)}`,
  name: 'noop',
  queue: 'raw',
  status: 'waiting',
  seq: i,
  rev: 1,
  priority: 0,
  attempt: 1,
  createdAt: Date.now(),
  runAt: Date.now(),
  dependencies: [],
  options: {},
  interruptions: 0,
})

/** A raw database; `indexed`: with the indexes of idbStore's schema (src/store/idb-schema.ts). */
function openRaw(indexed = false): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(freshName(), 1)
    request.onupgradeneeded = () => {
      const jobs = request.result.createObjectStore('jobs', { keyPath: 'id' })
      request.result.createObjectStore('data')
      if (!indexed) return
      for (const [, name, keyPath, options] of JOB_INDEXES) jobs.createIndex(name, keyPath, options)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'))
  })
}

const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('the transaction failed'))
  })

const scenarios = {
  /** Baseline: ping-pong to N raw module workers, one message in flight per worker. */
  async rawPostMessage({ jobs, ms = 0 }: { jobs: number; ms?: number }) {
    const workers = Array.from({ length: N }, rawWorker)
    const ready = workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.onmessage = () => resolve()
          w.postMessage({ id: -1, ms: 0 })
        }),
    )
    await Promise.all(ready)
    let next = 0
    const t0 = performance.now()
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.onmessage = () => {
              if (next >= jobs) return resolve()
              w.postMessage({ id: next++, ms })
            }
            w.postMessage({ id: next++, ms })
          }),
      ),
    )
    const seconds = (performance.now() - t0) / 1000
    for (const w of workers) w.terminate()
    return { jobsPerSec: jobs / seconds }
  },

  /** Baseline: workerpool with N workers, all jobs submitted at once. */
  async workerpool({ jobs, ms = 0 }: { jobs: number; ms?: number }) {
    const pool = workerpool.pool(wpUrl, { maxWorkers: N, minWorkers: N, workerOpts: { type: 'module' } })
    await Promise.all(Array.from({ length: N * 4 }, () => pool.exec('noop', [])))
    const t0 = performance.now()
    await Promise.all(Array.from({ length: jobs }, () => (ms > 0 ? pool.exec('cpu', [ms]) : pool.exec('noop', []))))
    const seconds = (performance.now() - t0) / 1000
    await pool.terminate()
    return { jobsPerSec: jobs / seconds }
  },

  /** Baseline: the same records (job + payload) put in one transaction, and one transaction per job. */
  async rawIdb({ jobs, perRecord }: { jobs: number; perRecord: number }) {
    const db = await openRaw()
    let t0 = performance.now()
    const tx = db.transaction(['jobs', 'data'], 'readwrite')
    for (let i = 0; i < jobs; i++) {
      const job = record(i)
      tx.objectStore('data').put(null, job.id)
      tx.objectStore('jobs').put(job)
    }
    await done(tx)
    const oneTx = jobs / ((performance.now() - t0) / 1000)
    t0 = performance.now()
    for (let i = 0; i < perRecord; i++) {
      const each = db.transaction(['jobs', 'data'], 'readwrite')
      const job = record(i)
      each.objectStore('data').put(null, job.id)
      each.objectStore('jobs').put(job)
      await done(each)
    }
    const txPerSec = perRecord / ((performance.now() - t0) / 1000)
    // The floor of a durable job: 2 puts (its insert, its completion), each phase one transaction.
    t0 = performance.now()
    const records = Array.from({ length: jobs }, (_, i) => ({ ...record(jobs + i), data: null }))
    const inserts = db.transaction('jobs', 'readwrite')
    for (const job of records) inserts.objectStore('jobs').put(job)
    await done(inserts)
    const completions = db.transaction('jobs', 'readwrite')
    for (const job of records) completions.objectStore('jobs').put({ ...job, status: 'completed', rev: 2, result: null, finishedAt: Date.now() })
    await done(completions)
    const twoPuts = jobs / ((performance.now() - t0) / 1000)
    db.close()
    // The same floor with offthread's schema: the indexes list() and dispatch need, rows shaped as idbStore keeps them.
    const indexed = await openRaw(true)
    const rows = Array.from({ length: jobs }, (_, i) => ({ ...record(2 * jobs + i), seq: i + 1, ready: [0, i + 1] as [number, number] }))
    t0 = performance.now()
    const insertsIndexed = indexed.transaction('jobs', 'readwrite')
    for (const row of rows) insertsIndexed.objectStore('jobs').put(row)
    await done(insertsIndexed)
    const completionsIndexed = indexed.transaction('jobs', 'readwrite')
    for (const { ready: _ready, ...row } of rows) {
      completionsIndexed.objectStore('jobs').put({ ...row, status: 'completed', rev: 2, result: null, finishedAt: Date.now() })
    }
    await done(completionsIndexed)
    const twoPutsIndexed = jobs / ((performance.now() - t0) / 1000)
    indexed.close()
    return { jobsPerSecOneTx: oneTx, jobsPerSecTxEach: txPerSec, jobsPerSecTwoPuts: twoPuts, jobsPerSecTwoPutsIndexed: twoPutsIndexed }
  },

  /** S1 (and S4 with idb): N no-op jobs through addBulk, time until all completed. */
  async s1({ jobs, store }: { jobs: number; store: 'memory' | 'idb' }) {
    const queue = makeQueue(store === 'idb' ? idbStore() : memoryStore())
    await warm(queue)
    const observer = longTasks()
    const open = transactionTimes()
    const t0 = performance.now()
    await queue.addBulk(Array.from({ length: jobs }, () => ({ name: 'noop' as const, data: null })))
    await queue.idle()
    const seconds = (performance.now() - t0) / 1000
    const long = observer.stop()
    const tx = open.stop()
    const counts = await queue.counts()
    await queue.close()
    if (counts.completed !== jobs + N * 4) throw new Error(`S1: ${counts.completed} completed of ${jobs + N * 4}`)
    return { jobsPerSec: jobs / seconds, longTasks: long.count, longestTask: long.max, ...tx }
  },

  /**
   * S2: jobs of `ms` CPU each. Timed from the moment they are stored (addBulk
   * resolved) to the last one completed: the dispatch overhead on CPU-bound
   * work. Storing them is S6's measure; the whole is given too.
   */
  async s2({ jobs, ms, store = 'idb' }: { jobs: number; ms: number; store?: 'idb' | 'memory' }) {
    const queue = makeQueue(store === 'idb' ? idbStore() : memoryStore())
    await warm(queue)
    // Learn the task's duration first, as a queue that has been running would have.
    await Promise.all((await queue.addBulk(Array.from({ length: N * 2 }, () => ({ name: 'cpu' as const, data: ms })))).map((h) => h.result()))
    queue.pause()
    const t0 = performance.now()
    await queue.addBulk(Array.from({ length: jobs }, () => ({ name: 'cpu' as const, data: ms })))
    const t1 = performance.now()
    queue.resume()
    await queue.idle()
    const t2 = performance.now()
    await queue.close()
    return { jobsPerSec: jobs / ((t2 - t1) / 1000), withAddJobsPerSec: jobs / ((t2 - t0) / 1000), addMs: t1 - t0 }
  },

  /** S3: add → result, one at a time, on an idle queue with IndexedDB. */
  async s3({ jobs }: { jobs: number }) {
    const queue = makeQueue(idbStore())
    await warm(queue)
    const latencies: number[] = []
    for (let i = 0; i < jobs; i++) {
      const t0 = performance.now()
      await (await queue.add('noop', null)).result()
      latencies.push(performance.now() - t0)
    }
    await queue.close()
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
  },

  /** S5: `jobs` stored, then createQueue: time to the first job started, and heap growth versus an empty store. */
  async s5({ jobs }: { jobs: number }) {
    const name = freshName()
    const seed = createQueue<Tasks>({ name, store: idbStore(), autostart: false })
    for (let i = 0; i < jobs; i += 5000) {
      await seed.addBulk(Array.from({ length: Math.min(5000, jobs - i) }, () => ({ name: 'noop' as const, data: null })))
    }
    await seed.close()

    const measure = async (queueName: string) => {
      const before = heap()
      const t0 = performance.now()
      const queue = createQueue<Tasks>({
        name: queueName,
        worker: offthreadWorker,
        concurrency: N,
        store: idbStore(),
        retention: { completed: false },
      })
      const first = new Promise<number>((resolve) => {
        const off = queue.on('started', () => {
          off()
          resolve(performance.now() - t0)
        })
      })
      // The empty store gets one job, so both runs measure "to the first job started".
      if (queueName !== name) await queue.add('noop', null)
      const startedAfter = await first
      queue.pause()
      await new Promise((resolve) => setTimeout(resolve, 300))
      const growth = heap() - before
      await queue.close()
      return { startedAfter, growth }
    }
    const empty = await measure(freshName())
    const full = await measure(name)
    return { firstStartMs: full.startedAfter, emptyFirstStartMs: empty.startedAfter, heapGrowthMB: (full.growth - empty.growth) / 2 ** 20 }
  },

  /** S6: addBulk of `jobs`, durable, against the raw one-transaction put rate of the same records. */
  async s6({ jobs }: { jobs: number }) {
    const queue = createQueue<Tasks>({ name: freshName(), store: idbStore(), autostart: false })
    await queue.add('noop', null)
    const open = transactionTimes()
    const t0 = performance.now()
    await queue.addBulk(Array.from({ length: jobs }, () => ({ name: 'noop' as const, data: null })))
    const seconds = (performance.now() - t0) / 1000
    const tx = open.stop()
    await queue.close()
    return { jobsPerSec: jobs / seconds, ...tx }
  },

  /** S7: cancel a running job, cooperative and one that ignores its signal. */
  async s7({ abortGrace }: { abortGrace: number }) {
    const queue = makeQueue(idbStore(), { abortGrace })
    await warm(queue)
    const time = async (name: 'wait' | 'spin') => {
      const job = await queue.add(name, null)
      await new Promise<void>((resolve) => {
        if (job.status === 'running') return resolve()
        const off = job.on('status', (s) => {
          if (s.status === 'running') {
            off()
            resolve()
          }
        })
      })
      const t0 = performance.now()
      await job.cancel()
      return performance.now() - t0
    }
    const cooperative = await time('wait')
    const ignoring = await time('spin')
    await queue.close()
    return { cooperativeMs: cooperative, ignoringMs: ignoring }
  },

  /**
   * S8: a job whose data is a 100 MB ArrayBuffer (transfer), among 19 small ones; then, as
   * a fresh page would (a new queue instance on the same database: no handle in memory),
   * list() of the 20 and getJob().result() of the big one. Long tasks over the whole time.
   */
  async s8({ megabytes }: { megabytes: number }) {
    const name = freshName()
    const writer = makeQueue(idbStore(), { name })
    await warm(writer)
    await writer.addBulk(Array.from({ length: 19 }, () => ({ name: 'noop' as const, data: null })))
    const long = longTasks()
    const buf = new ArrayBuffer(megabytes * 2 ** 20)
    let t0 = performance.now()
    const big = await writer.add('bytes', { buf }, { transfer: [buf] })
    const addMs = performance.now() - t0
    await big.result()
    await writer.close()
    const reader = createQueue<Tasks>({ name, store: idbStore() })
    await reader.counts()
    t0 = performance.now()
    const listed = await reader.list({ limit: 20 })
    const listMs = performance.now() - t0
    t0 = performance.now()
    const handle = await reader.getJob<number>(big.id)
    const result = await handle!.result()
    const getJobMs = performance.now() - t0
    const stop = long.stop()
    await reader.close()
    if (listed.length !== 20 || result !== megabytes * 2 ** 20) throw new Error(`s8: listed ${listed.length}, result ${result}`)
    return { addMs, listMs, getJobMs, longTasks: stop.count, longestTask: stop.max }
  },

  /** S9: `jobs` stored; list with filters and offsets, and counts(), each timed; long tasks over all of them. */
  async s9({ jobs }: { jobs: number }) {
    const name = freshName()
    const seed = createQueue<Tasks>({ name, store: idbStore(), autostart: false })
    for (let i = 0; i < jobs; i += 5000) {
      await seed.addBulk(
        Array.from({ length: Math.min(5000, jobs - i) }, (_, j) => ({ name: (i + j) % 2 ? ('noop' as const) : ('cpu' as const), data: 0 })),
      )
    }
    await seed.close()
    const queue = createQueue<Tasks>({ name, store: idbStore(), autostart: false })
    await queue.counts()
    const long = longTasks()
    const times: Record<string, number> = {}
    const time = async (label: string, fn: () => Promise<unknown>) => {
      const t0 = performance.now()
      await fn()
      times[label] = performance.now() - t0
    }
    await time('listMs', () => queue.list({ limit: 20 }))
    await time('listNoMatchMs', () => queue.list({ name: 'nomatch', limit: 20 }))
    await time('listLastPageMs', () => queue.list({ offset: jobs - 20, limit: 20 }))
    await time('listStatusNameOffsetMs', () => queue.list({ status: 'waiting', name: 'noop', offset: jobs / 4, limit: 20 }))
    await time('listTwoStatusesMs', () => queue.list({ status: ['waiting', 'completed'], limit: 20 }))
    await time('countsMs', () => queue.counts())
    // Keyset: the page after a job a quarter of the way down (its seq from a listing made before the clock runs).
    const [deep] = await queue.list({ status: 'waiting', name: 'noop', offset: jobs / 4, limit: 1 })
    await time('listKeysetMs', () => queue.list({ status: 'waiting', name: 'noop', before: deep?.seq ?? 0, limit: 20 }))
    const stop = long.stop()
    await queue.close()
    return { ...times, worstMs: Math.max(...Object.values(times)), longTasks: stop.count, longestTask: stop.max }
  },

  /**
   * S10: a page's text is put in the document and, in the same task (as an app's first render
   * mounts it), `<offthread-inspector>` is mounted on the queue or not; then `jobs` short
   * jobs run (added in slices of 100, as an app adds work). Long tasks and the intervals
   * between frames, from the page's build to the last job done.
   */
  async s10({ jobs, inspector, paragraphs }: { jobs: number; inspector: boolean; paragraphs: number }) {
    const queue = makeQueue(idbStore())
    await warm(queue)
    if (inspector) await import('offthread/inspector')
    const article = document.createElement('article')
    for (let i = 0; i < paragraphs; i++) article.append(Object.assign(document.createElement('p'), { textContent: LOREM }))
    const long = longTasks()
    const frames = frameTimes()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const t0 = performance.now()
    const el = inspector ? document.createElement('offthread-inspector') : undefined
    if (el) {
      el.queue = queue
      document.body.append(el)
    }
    document.body.append(article)
    for (let i = 0; i < jobs; i += 100) {
      await queue.addBulk(Array.from({ length: Math.min(100, jobs - i) }, () => ({ name: 'noop' as const, data: null })))
    }
    await queue.idle()
    const seconds = (performance.now() - t0) / 1000
    // The inspector's last re-read (100 ms after the last event) and its frame.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const stop = long.stop()
    const frame = frames.stop()
    el?.remove()
    article.remove()
    await queue.close()
    return { jobsPerSec: jobs / seconds, longTasks: stop.count, longestTask: stop.max, ...frame }
  },

  /**
   * S11: a built app's page load to its first job started: an app page (s11.ts: createQueue, then
   * one add) in a frame, timed in the frame from its navigation to the job's `started` event.
   */
  async s11() {
    const name = freshName()
    const frame = document.createElement('iframe')
    const started = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('S11: no job started within 20 s')), 20_000)
      addEventListener('message', function heard(event: MessageEvent<{ s11?: number }>) {
        if (typeof event.data?.s11 !== 'number') return
        removeEventListener('message', heard)
        clearTimeout(timer)
        resolve(event.data.s11)
      })
    })
    frame.src = `./s11.html?queue=${name}&workers=${N}`
    document.body.append(frame)
    try {
      return { firstStartMs: await started }
    } finally {
      frame.remove()
    }
  },

  /**
   * S12: a realistic mix: `jobs` jobs of `ms` CPU, each given a `kb` kB Uint8Array and giving
   * `resultKb` kB back, added as a user adds files (`jobs` add calls in one turn, no transfer),
   * with idbStore; or the same inputs through workerpool (`contender: 'workerpool'`). Timed from
   * the first add to the last result; the long tasks over all of it.
   */
  async s12({
    jobs,
    ms,
    kb,
    resultKb,
    contender = 'offthread',
  }: {
    jobs: number
    ms: number
    kb: number
    resultKb: number
    contender?: 'offthread' | 'workerpool'
  }) {
    const inputs = Array.from({ length: jobs }, (_, i) => new Uint8Array(kb * 1000).fill(i % 251))
    const out = resultKb * 1000
    let results: Uint8Array[]
    let seconds: number
    let long: { count: number; max: number }
    if (contender === 'workerpool') {
      const pool = workerpool.pool(wpUrl, { maxWorkers: N, minWorkers: N, workerOpts: { type: 'module' } })
      await Promise.all(Array.from({ length: N * 4 }, () => pool.exec('noop', [])))
      const observer = longTasks()
      const t0 = performance.now()
      results = await Promise.all(inputs.map((bytes) => pool.exec('mix', [{ bytes, ms, out }]) as Promise<Uint8Array>))
      seconds = (performance.now() - t0) / 1000
      long = observer.stop()
      await pool.terminate()
    } else {
      const queue = makeQueue(idbStore())
      await warm(queue)
      const observer = longTasks()
      const t0 = performance.now()
      const handles = await Promise.all(inputs.map((bytes) => queue.add('mix', { bytes, ms, out })))
      results = await Promise.all(handles.map((handle) => handle.result()))
      seconds = (performance.now() - t0) / 1000
      long = observer.stop()
      await queue.close()
    }
    if (results.some((r) => r.byteLength !== out)) throw new Error(`S12 (${contender}): a result is not ${out} bytes`)
    return { jobsPerSec: jobs / seconds, longTasks: long.count, longestTask: long.max }
  },

  /**
   * S13: what a batch buys. `jobs` jobs whose work is a fixed cost per call (`callMs`, a model
   * call, say) and a small cost per item (`itemMs`): as a plain task (one call per job) and as a
   * batch task (`batch: { size: 50 }`: one call per 50 jobs), each on a fresh queue (IndexedDB),
   * timed from addBulk to the last result.
   */
  async s13({ jobs, callMs, itemMs }: { jobs: number; callMs: number; itemMs: number }) {
    const time = async (name: 'one' | 'many'): Promise<number> => {
      const queue = createQueue<BatchTasks>({
        name: freshName(),
        worker: () => new Worker(new URL('./batch.worker.ts', import.meta.url), { type: 'module' }),
        concurrency: N,
        store: idbStore(),
        retention: { completed: false },
      })
      // Workers started, and each task's first call made, before the clock starts.
      await (await queue.add(name, { text: 'warm', callMs: 0, itemMs: 0 })).result()
      const t0 = performance.now()
      const handles = await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name, data: { text: `text ${i}`, callMs, itemMs } })))
      const results = await Promise.all(handles.map((handle) => handle.result()))
      const ms = performance.now() - t0
      if (results.some((r, i) => r !== `text ${i}`.length)) throw new Error(`S13 (${name}): a wrong result`)
      await queue.close()
      return ms
    }
    const plainMs = await time('one')
    const batchMs = await time('many')
    return { plainMs, batchMs, speedup: plainMs / batchMs, plainJobsPerSec: jobs / (plainMs / 1000), batchJobsPerSec: jobs / (batchMs / 1000) }
  },

  dropDatabases,
}

;(window as unknown as { bench: typeof scenarios }).bench = scenarios
document.querySelector('#state')!.textContent = 'ready'
