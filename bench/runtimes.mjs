#!/usr/bin/env node
// @ts-nocheck -- a plain Node script.
// Throughput on Bun and Deno: N no-op jobs through a queue on memoryStore and on
// sqliteStore (a temporary file), in the same runtime and process (bench/runtimes/run.js),
// against dist/ (npm run build first). Prints jobs/s (median of the rounds, min–max) and
// sqlite's share of memory's rate.
//   node bench/runtimes.mjs [--jobs 2000] [--rounds 3]
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const jobs = flag('--jobs', 2000)
const rounds = flag('--rounds', 3)
const root = fileURLToPath(new URL('..', import.meta.url))
const runtimes = {
  bun: ['bench/runtimes/run.js'],
  deno: ['run', '--allow-read', '--allow-write', '--allow-env', 'bench/runtimes/run.js'],
}
console.log(`${jobs} no-op jobs (one addBulk, concurrency 4), median of ${rounds} rounds, jobs/s`)
console.log('runtime        memoryStore              sqliteStore              sqlite / memory')
for (const [name, argv] of Object.entries(runtimes)) {
  const output = execFileSync(`${root}node_modules/.bin/${name}`, [...argv, String(jobs), String(rounds)], { cwd: root, encoding: 'utf8' })
  const line = output.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) throw new Error(`${name}: no RESULT line:\n${output}`)
  const r = JSON.parse(line.slice(7))
  const cell = (m) => `${m.median} (${m.min}–${m.max})`.padEnd(25)
  console.log(`${r.runtime.padEnd(15)}${cell(r.memory)}${cell(r.sqlite)}${(r.sqlite.median / r.memory.median).toFixed(2)}`)
}
