/**
 * The stores test/node/store.test.ts runs its contract on: memoryStore and idbStore
 * (fake-indexeddb) everywhere, and sqliteStore where the runtime has SQLite (Bun,
 * Deno, Node ≥ 22.5: test/node/sqlite-runtimes.test.ts runs the file in Deno and
 * Bun). `OFFTHREAD_STORES=sqliteStore` keeps only the stores named (comma-separated).
 * Each sqliteStore is a fresh file in `OFFTHREAD_SQLITE_DIR` (else a new temp directory).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteStore } from '../../../src/store/sqlite-store.js'
import type { Store } from '../../../src/store/store.js'

type Env = { process?: { env: Record<string, string | undefined>; getBuiltinModule?: (name: string) => unknown }; Bun?: unknown; Deno?: unknown }

/** Whether this runtime has a built-in SQLite that sqliteStore can use. */
export function hasSqlite(): boolean {
  const g = globalThis as Env
  if (g.Bun !== undefined || g.Deno !== undefined) return true
  try {
    return g.process?.getBuiltinModule?.('node:sqlite') !== undefined
  } catch {
    return false
  }
}

let dir: string | undefined
let files = 0

/** A database file no other test uses. */
export function freshSqliteFile(): string {
  dir ??= (globalThis as Env).process?.env['OFFTHREAD_SQLITE_DIR'] || mkdtempSync(join(tmpdir(), 'offthread-store-'))
  return join(dir, `store-${++files}.db`)
}

export function storesUnderTest(base: { memoryStore: () => Store; idbStore: () => Store }): Array<readonly [string, () => Store]> {
  const all: Array<readonly [string, () => Store]> = [
    ['memoryStore', base.memoryStore],
    ['idbStore', base.idbStore],
  ]
  if (hasSqlite()) all.push(['sqliteStore', () => sqliteStore(freshSqliteFile())])
  const only = (globalThis as Env).process?.env['OFFTHREAD_STORES']
  return only ? all.filter(([name]) => only.split(',').includes(name)) : all
}
