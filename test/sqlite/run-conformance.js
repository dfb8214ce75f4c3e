// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// The conformance suite on sqliteStore, in Deno or Bun, against the built package (dist/):
// one temporary database file for the run, one queue name per case.
//   npx deno run --allow-read --allow-write --allow-env test/sqlite/run-conformance.js
//   npx bun test/sqlite/run-conformance.js
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as lib from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'
import { conformanceCases } from '../conformance/suite.js'
import { assert, runCases } from '../conformance/assert.js'

const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `deno ${Deno.version.deno}`
const dir = mkdtempSync(join(tmpdir(), 'offthread-conformance-'))
const file = join(dir, 'jobs.db')
let count = 0
const workerUrl = new URL('../conformance/tasks.worker.js', import.meta.url)
const makeQueue = (options) =>
  lib.createQueue({
    name: `conformance-sqlite-${++count}`,
    store: sqliteStore(file),
    worker: () => new Worker(workerUrl, { type: 'module' }),
    ...options,
  })

console.log(`${runtime}, sqliteStore at ${file}`)
let failed = 1
try {
  ;({ failed } = await runCases(conformanceCases({ lib, makeQueue, assert })))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed === 0 ? 0 : 1)
