// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// sqliteStore's lease between two connections of one file, and its errors on bad input,
// in Deno or Bun (test/node/sqlite-runtimes.test.ts). Prints `N passed, M failed` last.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteStore, SQLITE_SCHEMA_VERSION } from '../../dist/sqlite.js'
import { assert, runCases } from '../conformance/assert.js'
import { sleep } from '../helpers/sleep.js'

const dir = mkdtempSync(join(tmpdir(), 'offthread-lease-'))
async function rejects(promise, pattern, what) {
  try {
    await promise
  } catch (error) {
    assert.ok(pattern.test(String(error?.message)), `${what}: message ${JSON.stringify(error?.message)} matches ${pattern}`)
    return error
  }
  throw new Error(`${what}: expected a rejection`)
}
function throws(fn, Type, pattern) {
  try {
    fn()
  } catch (error) {
    assert.instanceOf(error, Type)
    assert.ok(pattern.test(error.message), `message ${JSON.stringify(error.message)} matches ${pattern}`)
    return
  }
  throw new Error('expected a throw')
}
/** A raw connection of the runtime's SQLite (to make a database of a newer schema). */
async function raw(path) {
  if (typeof Bun !== 'undefined') {
    const { Database } = await import('bun:sqlite')
    return new Database(path)
  }
  const { DatabaseSync } = await import('node:sqlite')
  return new DatabaseSync(path)
}

const cases = [
  {
    name: 'one lease per queue: taken, refused to another token, renewed, released, taken when expired',
    async run() {
      const file = join(dir, 'lease.db')
      const a = sqliteStore(file)
      const b = sqliteStore(file)
      await a.open('q')
      await b.open('q')
      try {
        assert.equal(await a.lease('ta', 300), true, 'a takes the free lease')
        assert.equal(await b.lease('tb', 300), false, 'b is refused while a holds it')
        assert.equal(await a.lease('ta', 300), true, 'a renews')
        assert.equal(await b.lease('tb', 0), false, 'b cannot release what it does not hold')
        // The holder is the runner token: b's fenced writes are refused, a's land.
        const [fenced] = await b.write([{ op: 'unschedule', id: 's', fence: 'tb' }])
        assert.deepEqual(fenced, { ok: false, reason: 'fenced' })
        const [landed] = await a.write([{ op: 'unschedule', id: 's', fence: 'ta' }])
        assert.deepEqual(landed, { ok: true })
        assert.equal(await a.lease('ta', 0), true, 'a releases')
        assert.equal(await b.lease('tb', 300), true, 'b takes it once released')
        await sleep(350)
        assert.equal(await a.lease('ta', 300), true, 'a takes it once b let it expire')
        // A holder whose process is gone from this host loses the lease at once, long before it expires.
        assert.equal(await a.lease('ta', 60_000), true, 'a holds a long lease')
        assert.equal(await b.lease('tb', 300), false, 'b is refused: a (this process) lives')
        const db = await raw(file)
        db.exec(`UPDATE queues SET lease_pid = ${2 ** 22 + 1} WHERE queue = 'q'`) // above any pid_max: no such process
        db.close()
        assert.equal(await b.lease('tb', 300), true, 'b takes the lease of a dead holder at once')
        await sleep(350)
        // Another queue of the same file has its own lease.
        const c = sqliteStore(file)
        await c.open('other')
        assert.equal(await c.lease('tc', 300), true, 'another queue: its own lease')
        await c.close()
      } finally {
        await a.close()
        await b.close()
      }
    },
  },
  {
    name: 'bad input: an empty or non-string path is a TypeError',
    async run() {
      throws(() => sqliteStore(''), TypeError, /path is empty/)
      throws(() => sqliteStore(42), TypeError, /must be a string.*number 42/)
      throws(() => sqliteStore(undefined), TypeError, /must be a string/)
      throws(() => sqliteStore('x.db', { busyTimeout: -1 }), RangeError, /busyTimeout/)
    },
  },
  {
    name: 'a path in a missing directory fails open, naming the directory',
    async run() {
      await rejects(sqliteStore(join(dir, 'missing', 'jobs.db')).open('q'), /directory ".*missing" does not exist/, 'missing dir')
    },
  },
  {
    name: 'a file that is not a database fails open, saying so',
    async run() {
      const file = join(dir, 'text.db')
      writeFileSync(file, 'not a database, just text. '.repeat(40))
      await rejects(sqliteStore(file).open('q'), /is not a SQLite database/, 'not a database')
    },
  },
  {
    name: 'a database of a newer schema fails open, naming both versions',
    async run() {
      const file = join(dir, 'newer.db')
      const db = await raw(file)
      db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`)
      db.close()
      const error = await rejects(
        sqliteStore(file).open('q'),
        new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 1}.*\\(${SQLITE_SCHEMA_VERSION}\\)`),
        'newer',
      )
      assert.equal(error.code, 'ERR_STORE_VERSION')
    },
  },
  {
    name: 'values round-trip as structured clone does; a function is uncloneable',
    async run() {
      const store = sqliteStore(join(dir, 'values.db'))
      await store.open('q')
      try {
        const job = {
          id: 'a',
          name: 't',
          queue: 'q',
          status: 'waiting',
          rev: 1,
          priority: 0,
          attempt: 1,
          createdAt: 1,
          runAt: 1,
          dependencies: [],
          options: {},
          interruptions: 0,
        }
        const data = {
          map: new Map([[1, { d: new Date(5) }]]),
          set: new Set(['x']),
          bytes: new Uint8Array([1, 2, 3]),
          big: 10n,
          nested: [undefined, null, -0],
        }
        const results = await store.write([
          { op: 'insert', job, data },
          { op: 'insert', job: { ...job, id: 'b' }, data: { f() {} } },
        ])
        assert.equal(results[0].ok, true)
        assert.equal(results[1].reason, 'uncloneable')
        assert.equal(results[1].error?.name, 'DataCloneError')
        const [back] = await store.getData(['a'])
        assert.ok(back.map instanceof Map && back.map.get(1).d instanceof Date && back.map.get(1).d.getTime() === 5, 'Map of Date')
        assert.ok(back.set instanceof Set && back.set.has('x'), 'Set')
        assert.ok(back.bytes instanceof Uint8Array && back.bytes[2] === 3, 'Uint8Array')
        assert.equal(back.big, 10n)
        assert.ok(Object.is(back.nested[2], -0) && back.nested.length === 3, '-0 and holes')
      } finally {
        await store.close()
      }
    },
  },
]

const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `deno ${Deno.version.deno}`
console.log(runtime)
let failed = 1
try {
  ;({ failed } = await runCases(cases))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed === 0 ? 0 : 1)
