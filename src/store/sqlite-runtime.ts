/**
 * The runtime's own SQLite, found at first use (`bun:sqlite` in Bun, `node:sqlite` in
 * Deno and Node ≥ 22.5; nothing native shipped), with a structured serializer and enough
 * of the process to tell a dead lease holder; and one connection to a database file.
 */
import { OffthreadError } from '../shared/errors.js'

// The small part of `bun:sqlite` and `node:sqlite` the store uses (both have these shapes).
/** A value SQLite stores. */
export type SqlValue = string | number | null | Uint8Array
/** A row read. */
export type Row = Record<string, unknown>
/** A prepared statement. */
export interface SqliteStatement {
  run(...params: SqlValue[]): unknown
  get(...params: SqlValue[]): Row | null | undefined
  all(...params: SqlValue[]): Row[]
}
/** An open database. */
export interface SqliteDatabase {
  exec(sql: string): unknown
  prepare(sql: string): SqliteStatement
  close(): unknown
}

/** What a runtime gives this store: SQLite, a structured serializer, and enough of the process to tell a dead lease holder. */
export interface Runtime {
  name: string
  /** The serialization format of values: V8's (Deno, Node) or JavaScriptCore's (Bun); a file keeps one. */
  format: 'v8' | 'jsc'
  open(path: string): SqliteDatabase
  serialize(value: unknown): Uint8Array
  deserialize(bytes: Uint8Array): unknown
  directoryExists(path: string): boolean
  pid: number | undefined
  host: string | undefined
  /** Whether process `pid` of this host may be alive (false only when it surely is not). */
  alive(pid: number): boolean
}

interface ProcessLike {
  pid: number
  kill(pid: number, signal: number): unknown
  versions?: Record<string, string | undefined>
}

/** The name of this runtime, for messages. */
function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } }; process?: ProcessLike }
  if (g.Bun) return `Bun ${g.Bun.version}`
  if (g.Deno) return `Deno ${g.Deno.version.deno}`
  const node = g.process?.versions?.['node']
  if (node) return `Node ${node}`
  return 'this runtime (a browser?)'
}

// Kept in variables: bundlers and tsc must not try to resolve them.
const BUN_SQLITE = 'bun:sqlite'
const NODE_SQLITE = 'node:sqlite'
const NODE_V8 = 'node:v8'
const NODE_OS = 'node:os'
const NODE_FS = 'node:fs'

let runtime: Promise<Runtime> | undefined

/** Loads the runtime's SQLite and helpers once per process. */
export function loadRuntime(): Promise<Runtime> {
  runtime ??= (async (): Promise<Runtime> => {
    const name = runtimeName()
    const g = globalThis as { Bun?: unknown; process?: ProcessLike }
    const isBun = g.Bun !== undefined
    let open: (path: string) => SqliteDatabase
    try {
      if (isBun) {
        const { Database } = (await import(/* @vite-ignore */ BUN_SQLITE)) as { Database: new (path: string) => SqliteDatabase }
        open = (path) => new Database(path)
      } else {
        const { DatabaseSync } = (await import(/* @vite-ignore */ NODE_SQLITE)) as { DatabaseSync: new (path: string) => SqliteDatabase }
        if (typeof DatabaseSync !== 'function') throw new Error('node:sqlite has no DatabaseSync')
        open = (path) => new DatabaseSync(path)
      }
    } catch (error) {
      throw new OffthreadError(
        `sqliteStore: ${name} has no built-in SQLite. It needs Bun (bun:sqlite), Deno 2 or Node ≥ 22.5 (node:sqlite; Node 22.5 to 22.12 with --experimental-sqlite); here use memoryStore()${name.startsWith('this runtime') ? ' or idbStore()' : ''}`,
        { cause: error },
      )
    }
    const v8 = (await import(/* @vite-ignore */ NODE_V8)) as { serialize(value: unknown): Uint8Array; deserialize(bytes: Uint8Array): unknown }
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as {
      statSync(path: string, options: { throwIfNoEntry: false }): { isDirectory(): boolean } | undefined
    }
    let host: string | undefined
    try {
      host = ((await import(/* @vite-ignore */ NODE_OS)) as { hostname(): string }).hostname()
    } catch {
      // Deno without --allow-sys: no host, so a holder's pid is never checked (the lease runs out instead).
    }
    const proc = g.process
    return {
      name,
      format: isBun ? 'jsc' : 'v8',
      open,
      serialize(value) {
        try {
          return v8.serialize(value)
        } catch (error) {
          // As structuredClone says it (Deno's node:v8 throws a plain Error).
          if ((error as { name?: unknown }).name === 'DataCloneError') throw error
          throw new DOMException((error as Error).message, 'DataCloneError')
        }
      },
      deserialize: (bytes) => v8.deserialize(bytes),
      directoryExists: (path) => fs.statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
      pid: proc?.pid,
      host,
      alive(pid) {
        if (!proc || pid === proc.pid) return true
        try {
          proc.kill(pid, 0)
          return true
        } catch (error) {
          // ESRCH: no such process. Anything else (EPERM, Deno without --allow-run): maybe alive.
          return (error as { code?: unknown }).code !== 'ESRCH'
        }
      },
    }
  })()
  runtime.catch(() => {
    runtime = undefined
  })
  return runtime
}

/**
 * One open database file: its statements, prepared once for the connection's life; its
 * transactions; and values as BLOBs in the runtime's format.
 */
export class Connection {
  readonly rt: Runtime
  readonly db: SqliteDatabase
  #statements = new Map<string, SqliteStatement>()

  constructor(rt: Runtime, db: SqliteDatabase) {
    this.rt = rt
    this.db = db
  }

  /** A prepared statement, kept for the connection's life. */
  sql(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Runs `body` in one IMMEDIATE transaction (the file's write lock from the start); rolls back if it throws. */
  transaction<R>(body: () => R): R {
    this.db.exec('BEGIN IMMEDIATE')
    let result: R
    try {
      result = body()
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
    this.db.exec('COMMIT')
    return result
  }

  /** A value as a BLOB; throws a `DataCloneError` for one that cannot be stored. */
  pack(value: unknown): Uint8Array {
    return this.rt.serialize(value)
  }

  /** A BLOB's value. */
  unpack<T>(bytes: unknown): T {
    return this.rt.deserialize(bytes as Uint8Array) as T
  }

  close(): void {
    this.#statements.clear()
    this.db.close()
  }
}
