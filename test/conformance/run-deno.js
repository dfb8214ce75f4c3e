// @ts-nocheck: plain JS that Node, Deno, Bun and Chromium run as is (the repo typechecks JS strictly).
// Runs the conformance suite on Deno against the built package (dist/):
// module Web Workers as they are, memoryStore (no IndexedDB on Deno).
//   npx deno run --allow-read --allow-env test/conformance/run-deno.js
import * as lib from '../../dist/index.js'
import { conformanceCases } from './suite.js'
import { assert, runCases } from './assert.js'

let count = 0
const workerUrl = new URL('./tasks.worker.js', import.meta.url)
const makeQueue = (options) =>
  lib.createQueue({
    name: `conformance-deno-${++count}`,
    store: lib.memoryStore(),
    worker: () => new Worker(workerUrl, { type: 'module' }),
    ...options,
  })

console.log(`deno ${Deno.version.deno}, navigator.locks: ${typeof navigator !== 'undefined' && !!navigator.locks}`)
const { failed } = await runCases(conformanceCases({ lib, makeQueue, assert }))
Deno.exit(failed === 0 ? 0 : 1)
