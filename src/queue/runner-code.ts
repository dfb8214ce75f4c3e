/**
 * Loads the runner's code (runner/runner-chunk.ts: the dispatcher and the worker pool), a chunk of
 * its own, so that a page's start never waits for it. A tab with a worker starts loading it
 * as its queue is made (queue.ts), so that it is there when the tab learns its tasks (a pool
 * loads its worker) or becomes the runner, maybe days later, when a deploy may have taken
 * the old chunk off the server. A load that failed is tried again on the next call.
 */
export type RunnerCode = typeof import('../runner/runner-chunk.js')

let loading: Promise<RunnerCode> | undefined

export function loadRunnerCode(): Promise<RunnerCode> {
  loading ??= import('../runner/runner-chunk.js').catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}
