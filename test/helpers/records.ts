/**
 * Job records for unit tests, built on the Store contract suite's `job` (a waiting job
 * of task "task" in queue "q"): import `job` from there for a record to insert, and
 * {@link jobRecord} for one as a store keeps it.
 */
import { job } from '../../src/store/contract/kit.js'
import type { JobRecord } from '../../src/store/store.js'

let seq = 0

/** A stored job record: `job(id)` with the next `seq` (so records order as made), and `fields` over it. */
export function jobRecord(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return { ...job(id), seq: ++seq, ...fields }
}
