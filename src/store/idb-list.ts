/**
 * `list()` of the IndexedDB store, loaded on its first call: only a page that lists
 * jobs (a UI, the inspector) needs it. It imports nothing of the store at run time (its
 * helpers come as arguments), so that nothing the page loads at start moves into a chunk
 * of its own.
 */
import type { IDBPTransaction } from 'idb'
import type { JobStatus } from '../shared/types.js'
import type { ListQuery, StoredJob } from './store.js'
import type { IndexName, JobRow, Names, OffthreadDB } from './idb-schema.js'
import type { Leases } from './idb-lease.js'

/** From this offset on, list() counts its range to see which end to walk from. */
const FAR_OFFSET = 1000

/**
 * Newest first through the index that fits the filters (by status, name, both, or
 * none), reading keys only: `offset` is skipped with `advance`, never by reading the
 * jobs it skips; only the page's jobs are read. Several statuses: one walk each, merged.
 * Leased jobs (idb-lease.ts) are `running` to the reader: their rows, `waiting` or
 * `delayed` in the indexes, are passed over there and merged in with the running ones.
 */
export async function list(
  query: ListQuery,
  open: () => Promise<IDBPTransaction<OffthreadDB, Names[], 'readonly'>>,
  full: (ids: string[]) => Promise<Array<StoredJob | undefined>>,
  leases: (tx: IDBPTransaction<OffthreadDB, Names[], 'readonly'>) => Promise<Leases>,
): Promise<StoredJob[]> {
  const statuses = query.status === undefined ? undefined : [...new Set(([] as JobStatus[]).concat(query.status))]
  const offset = query.offset ?? 0
  const limit = query.limit ?? Infinity
  if (limit === 0 || statuses?.length === 0) return []
  const tx = await open()
  const jobs = tx.objectStore('jobs')
  const { name, before } = query
  const leased = await leases(tx)
  // The leased jobs this query may show: [seq, id] by their rows' status (where the indexes hold them).
  const hidden = new Map<JobStatus, Map<string, number>>()
  const held: Array<[number, string]> = []
  if (leased.size > 0) {
    const rows = await Promise.all([...leased.entries.keys()].map((id) => jobs.get(id)))
    for (const row of rows) {
      if (!row || !leased.leased(row) || (name !== undefined && row.name !== name) || (before !== undefined && row.seq >= before)) continue
      let under = hidden.get(row.status)
      if (!under) hidden.set(row.status, (under = new Map<string, number>()))
      under.set(row.id, row.seq)
      held.push([row.seq, row.id])
    }
  }
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
    // Leased rows here: passed over, and not counted in the offset.
    const hide = (status !== undefined && hidden.get(status)) || undefined
    // A far offset is walked from the oldest end when that end is nearer (advance costs per entry skipped).
    let direction: IDBCursorDirection = 'prev'
    if (skip > FAR_OFFSET && Number.isFinite(take) && !hide) {
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
    // The seq is the last part of every one of these index keys (or the key itself).
    const seqOf = (key: unknown): number => Number(Array.isArray(key) ? key[key.length - 1] : key)
    let cursor = await source.openKeyCursor(range, direction)
    if (cursor && skip > 0) cursor = await cursor.advance(skip)
    // Newest first, the entries passed are those of a higher seq: as many more as were hidden among them.
    for (let passed = 0; cursor && hide && skip > 0;) {
      const at = seqOf(cursor.key)
      let over = 0
      for (const seq of hide.values()) if (seq > at) over++
      if (over === passed) break
      cursor = await cursor.advance(over - passed)
      passed = over
    }
    while (cursor && found.length < take) {
      if (!hide?.has(cursor.primaryKey)) found.push([seqOf(cursor.key), cursor.primaryKey])
      cursor = await cursor.continue()
    }
    return direction === 'next' ? found.reverse() : found
  }
  // Running: the running rows and the leased jobs, merged.
  const seen = async (status: JobStatus | undefined, skip: number, take: number): Promise<Array<[number, string]>> => {
    if (status !== 'running' || held.length === 0) return walk(status, skip, take)
    const rows = await walk(status, 0, skip + take)
    return [...rows, ...held].sort((a, b) => b[0] - a[0]).slice(skip, skip + take)
  }
  let page: Array<[number, string]>
  if (!statuses || statuses.length === 1) page = await seen(statuses?.[0], offset, limit)
  else {
    const walks = await Promise.all(statuses.map((status) => seen(status, 0, offset + limit)))
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
  return rows.filter((row): row is JobRow => row !== undefined).map((row) => leased.record(row) as StoredJob)
}
