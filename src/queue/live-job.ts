/**
 * `queue.watchJob(id)`: a job looked up by id and followed through its handle, and the
 * live views a queue shares by query (see live.ts for the store contract they keep).
 */
import { report } from '../shared/events.js'
import type { JobHandle } from './handle.js'
import { retryDelay, type JobLookup, type JobLookupState, type LiveJobHost, type LiveJobStore } from './live.js'

const lookup = (state: JobLookupState, handle?: JobHandle, error?: Error): JobLookup =>
  Object.freeze({ state, job: handle?.getSnapshot(), handle, error })

/** Before any read, and what a server render shows. */
export const LOADING_JOB: JobLookup = lookup('loading')

/**
 * `queue.watchJob(id)`: the job of that id, looked up once subscribed, then followed
 * through its handle; `deleted` once a `removed` event (from any tab) names it, and
 * looked up again when a job of that id is added (a chosen `id`, after it was deleted).
 * In the store contract of the other live views (Svelte's `$store`, React's
 * `useSyncExternalStore`); it reads only while subscribed.
 */
export class LiveJob implements LiveJobStore {
  readonly id: string
  #host: LiveJobHost
  #value: JobLookup = LOADING_JOB
  #listeners = new Set<(value: JobLookup) => void>()
  #offs: Array<() => void> = []
  #offHandle: (() => void) | undefined
  /** Bumped by each look-up and each removal: only the latest may answer. */
  #turn = 0

  constructor(host: LiveJobHost, id: string) {
    this.#host = host
    this.id = id
  }

  get watched(): boolean {
    return this.#listeners.size > 0
  }

  getSnapshot(): JobLookup {
    return this.#value
  }

  subscribe(listener: (value: JobLookup) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`subscribe(listener): expected a function, received ${typeof listener}`)
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#start()
    try {
      listener(this.#value)
    } catch (error) {
      report(error)
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      for (const off of this.#offs.splice(0)) off()
      this.#follow(undefined)
      this.#turn++
    }
  }

  #start(): void {
    // Listen first: a removal while the look-up reads is not missed.
    this.#offs.push(
      this.#host.on('removed', (ids) => {
        if (!ids.includes(this.id)) return
        this.#turn++
        this.#follow(undefined)
        if (this.#value.state === 'ready') this.#set(lookup('deleted'))
      }),
      this.#host.on('added', (job) => {
        if (job.id === this.id) this.#lookUp()
      }),
    )
    this.#lookUp()
  }

  #lookUp(): void {
    const turn = ++this.#turn
    this.#host.getJob(this.id).then(
      (handle) => {
        if (turn !== this.#turn) return
        this.#failures = 0
        this.#follow(handle)
        this.#set(handle ? lookup('ready', handle) : lookup('missing'))
      },
      (error: unknown) => {
        if (turn !== this.#turn) return
        this.#follow(undefined)
        this.#set(lookup('error', undefined, error instanceof Error ? error : new Error(String(error))))
        // Look again a moment later, while watched (an `added` or `removed` of it looks sooner).
        setTimeout(() => {
          if (turn === this.#turn && this.watched) this.#lookUp()
        }, retryDelay(++this.#failures))
      },
    )
  }

  /** Look-ups failed in a row. */
  #failures = 0

  /** Follows `handle`'s changes (at most once a frame: the handle's own pace). */
  #follow(handle: JobHandle | undefined): void {
    this.#offHandle?.()
    this.#offHandle = handle?.subscribe((job) => {
      if (this.#value.handle === handle && this.#value.job !== job) this.#set(Object.freeze({ ...this.#value, job }))
    })
  }

  #set(next: JobLookup): void {
    const last = this.#value
    if (next.state === last.state && next.job === last.job && next.handle === last.handle && next.error === last.error) return
    this.#value = next
    for (const listener of [...this.#listeners]) {
      try {
        listener(next)
      } catch (error) {
        report(error)
      }
    }
  }
}

/**
 * Live views shared by key, so that views of the same query share one read: kept while
 * watched, and at most {@link SHARED} of them unwatched.
 */
export class LiveViews {
  #views = new Map<string, { readonly watched: boolean }>()

  get<V extends { readonly watched: boolean }>(key: string, make: () => V): V {
    let view = this.#views.get(key) as V | undefined
    if (!view) {
      view = make()
      this.#views.set(key, view)
      if (this.#views.size > SHARED) {
        for (const [k, v] of this.#views) if (!v.watched && k !== key) this.#views.delete(k)
      }
    }
    return view
  }
}

/** Unwatched live views kept for reuse, at most. */
const SHARED = 64
