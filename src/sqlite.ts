/**
 * offthread on Bun, Deno and Node ≥ 22.5, durable: `sqliteStore(path)` keeps a
 * queue's jobs in the runtime's built-in SQLite (`bun:sqlite`, `node:sqlite`),
 * so a process restarted mid-run resumes its jobs, and two processes on one
 * file elect one runner by a lease row (no Web Locks between processes).
 *
 * @example
 * ```ts
 * import { createQueue } from 'offthread'
 * import { sqliteStore } from 'offthread/sqlite'
 * const queue = createQueue({
 *   store: sqliteStore('./jobs.db'),
 *   worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }),
 * })
 * ```
 *
 * @packageDocumentation
 */
export { sqliteStore, SQLITE_SCHEMA_VERSION } from './store/sqlite-store.js'
export type { SqliteStoreOptions } from './store/sqlite-store.js'
