import type { JobRecord } from '../../../src/store/store.js'

let seq = 0

/** A job record for unit tests: a waiting job of task "task", with `fields` over it (each gets the next `seq`). */
export function jobRecord(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    name: 'task',
    queue: 'q',
    status: 'waiting',
    seq: ++seq,
    rev: 1,
    priority: 0,
    attempt: 1,
    createdAt: 0,
    runAt: 0,
    dependencies: [],
    options: {},
    interruptions: 0,
    ...fields,
  }
}
