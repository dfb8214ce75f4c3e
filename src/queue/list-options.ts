/**
 * Checks the filters of `queue.list` once, before the store sees them, and the options
 * of `queue.clean`.
 */
import { invalidOption } from '../shared/options.js'
import { DEFAULT_LIST_LIMIT, FINAL_STATUSES, JOB_STATUSES, type JobStatus, type ListOptions } from '../shared/types.js'

/** Validates `list(options)`; returns only the known filters, with the default limit. */
export function validateList(options: ListOptions): ListOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const out: ListOptions = {}
  if (options.status !== undefined) {
    const statuses = ([] as unknown[]).concat(options.status)
    for (const status of statuses) {
      if (!JOB_STATUSES.includes(status as JobStatus)) throw invalidOption('status', `one of ${JOB_STATUSES.join(', ')}`, status)
    }
    out.status = options.status
  }
  if (options.name !== undefined) {
    if (typeof options.name !== 'string') throw invalidOption('name', 'a task name', options.name)
    out.name = options.name
  }
  for (const key of ['limit', 'offset'] as const) {
    const value = options[key]
    if (value === undefined) continue
    // `limit: Infinity` asks for every job (what the default limit is there to spare a page).
    if (key === 'limit' && value === Number.POSITIVE_INFINITY) {
      out.limit = value
      continue
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw invalidOption(key, key === 'limit' ? 'an integer ≥ 0, or Infinity for every job' : 'an integer ≥ 0', value, RangeError)
    out[key] = value
  }
  if (options.before !== undefined) {
    if (typeof options.before !== 'number' || !Number.isInteger(options.before))
      throw invalidOption('before', "an integer (a snapshot's seq)", options.before, RangeError)
    out.before = options.before
  }
  out.limit ??= DEFAULT_LIST_LIMIT
  if (options.data !== undefined) {
    if (typeof options.data !== 'boolean') throw invalidOption('data', 'a boolean', options.data)
    if (options.data) out.data = true
  }
  return out
}

/** Validates `queue.clean(options)`: the final statuses to clean, and their minimum age. */
export function resolveClean(options: { status: unknown; olderThan?: unknown }): { statuses: JobStatus[]; olderThan: number } {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object { status, olderThan? }', options)
  const statuses = ([] as unknown[]).concat(options.status)
  for (const status of statuses) {
    if (!FINAL_STATUSES.includes(status as JobStatus)) {
      throw invalidOption('status', "'completed', 'failed' or 'cancelled' (or an array of them)", status)
    }
  }
  const olderThan = options.olderThan === undefined ? 0 : options.olderThan
  if (typeof olderThan !== 'number' || !(olderThan >= 0)) throw invalidOption('olderThan', 'a number of ms ≥ 0', olderThan, RangeError)
  return { statuses: statuses as JobStatus[], olderThan }
}
