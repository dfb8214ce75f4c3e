/**
 * `list()` of the IndexedDB store, loaded on its first call: only a page that lists
 * jobs (a UI, the inspector) needs it. It imports nothing of the store at run time (its
 * helpers come as arguments), so that nothing the page loads at start moves into a chunk
 * of its own.
 */
import type { IDBPTransaction } from 'idb'
import type { JobStatus } from '../shared/types.js'
import type { JobRecord, ListQuery, StoredJob } from './store.js'
import type { IndexName, JobRow, Names, OffthreadDB } from './idb-schema.js'

/** From this offset on, list() counts its range to see which end to walk from. */
const FAR_OFFSET = 1000

/**
 * Newest first through the index that fits the filters (by status, name, both, or
 * none), reading keys only: `offset` is skipped with `advance`, never by reading the
 * jobs it skips; only the page's jobs are read. Several statuses: one walk each, merged.
 */
export async function list(
  query: ListQuery,
  open: () => Promise<IDBPTransaction<OffthreadDB, Names[], 'readonly'>>,
  full: (ids: string[]) => Promise<Array<StoredJob | undefined>>,
  fromRow: (row: JobRow) => JobRecord,
): Promise<StoredJob[]> {
  const statuses = query.status === undefined ? undefined : [...new Set(([] as JobStatus[]).concat(query.status))]
  const offset = query.offset ?? 0
  const limit = query.limit ?? Infinity
  if (limit === 0 || statuses?.length === 0) return []
  const tx = await open()
  const jobs = tx.objectStore('jobs')
  const { name, before } = query
  // One walk per status (or one over all): [seq, id] pairs, newest first, at most offset + limit each.
  const walk = async (status: JobStatus | undefined, skip: number, take: number): Promise<Array<[number, string]>> => {
    // Keys end with the seq: `before` is an exclusive upper bound on it (keyset pagination).
    const top = before ?? Infinity
    const [index, range] = ((): [IndexName, IDBKeyRange | null] => {
      if (status !== undefined && name !== undefined)
        return ['statusName', IDBKeyRange.bound([status, name, -Infinity], [status, name, top], false, before !== undefined)]
      if (status !== undefined) return ['status', IDBKeyRange.bound([status, -Infinity], [status, top], false, before !== undefined)]
      if (name !== undefined) return ['name', IDBKeyRange.bound([name, -Infinity], [name, top], false, before !== undefined)]
      return ['seq', before === undefined ? null : IDBKeyRange.upperBound(before, true)]
    })()
    const source = jobs.index(index)
    // A far offset is walked from the oldest end when that end is nearer (advance costs per entry skipped).
    let direction: IDBCursorDirection = 'prev'
    if (skip > FAR_OFFSET && Number.isFinite(take)) {
      // Without a name or a bound, the kept counts say how many (a count over the index walks it: ~1 s for 100,000 on disk).
      const kept = name === undefined && before === undefined ? await jobs.transaction.objectStore('meta').get('counts') : undefined
      const total = kept
        ? status === undefined
          ? Object.values(kept as Record<JobStatus, number>).reduce((a, b) => a + b, 0)
          : (kept as Record<JobStatus, number>)[status]
        : await source.count(range)
      if (skip >= total) return []
      if (total - skip < skip) {
        direction = 'next'
        const end = Math.min(total, skip + take)
        take = end - skip
        skip = total - end
      }
    }
    const found: Array<[number, string]> = []
    let cursor = await source.openKeyCursor(range, direction)
    if (cursor && skip > 0) cursor = await cursor.advance(skip)
    while (cursor && found.length < take) {
      // The seq is the last part of every one of these index keys (or the key itself).
      const key: unknown = cursor.key
      found.push([Number(Array.isArray(key) ? key[key.length - 1] : key), cursor.primaryKey])
      cursor = await cursor.continue()
    }
    return direction === 'next' ? found.reverse() : found
  }
  let page: Array<[number, string]>
  if (!statuses || statuses.length === 1) page = await walk(statuses?.[0], offset, limit)
  else {
    const walks = await Promise.all(statuses.map((status) => walk(status, 0, offset + limit)))
    page = walks
      .flat()
      .sort((a, b) => b[0] - a[0])
      .slice(offset, offset + limit)
  }
  if (query.data) {
    const jobs = await full(page.map(([, id]) => id))
    return jobs.filter((job): job is StoredJob => job !== undefined)
  }
  const rows = await Promise.all(page.map(([, id]) => jobs.get(id)))
  return rows.filter((row): row is JobRow => row !== undefined).map((row) => fromRow(row) as StoredJob)
}
