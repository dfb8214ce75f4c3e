#!/usr/bin/env node
// @ts-nocheck -- a plain Node script; its page-side half (bench/page) is type-checked.
// npm run bench [-- --quick] [-- --rounds N] [-- --only s1,s3] [-- --profile]
// Builds the bench page with Vite, serves it on 127.0.0.1, drives system Chromium
// with Playwright, runs every scenario with its baselines side by side in one
// browser session, prints a table (median of the rounds, with min and max),
// writes bench/results.json and bench/chart.svg.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { chromium } from 'playwright'
import { build, preview } from 'vite'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET_CHROMIUM } from '../scripts/browsers.mjs'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const flag = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const rounds = Number(flag('--rounds') ?? (quick ? 1 : 5))
const only = flag('--only')?.split(',')
const workers = Number(flag('--workers') ?? 2)
// --profile: a CPU profile (CDP) of the page's main thread around each scenario's first round;
// prints where its time goes (self time by function) and writes test-results/bench-<id>.cpuprofile
// (open it in Chrome DevTools, Performance panel). Profiling slows the round it profiles.
const profiling = args.includes('--profile')
const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const outDir = here('../test-results/bench-page/')
// --compare REF: the same offthread scenarios, also on the src/ of git REF, in the same browser, round by round.
const compareRef = flag('--compare')

const sizes = quick
  ? { s1: 2000, s2: 300, s3: 100, s5: 20000, s6: 2000, perRecord: 200, s8: 20, s9: 20000, s10: 300, s12: 100, s13: 50 }
  : { s1: 10000, s2: 2000, s3: 500, s5: 100000, s6: 10000, perRecord: 500, s8: 100, s9: 100000, s10: 1000, s12: 300, s13: 500 }

/** Every measurement: what page function, with what arguments, and which value of its result. */
const runs = [
  { id: 'raw-postmessage', fn: 'rawPostMessage', params: { jobs: sizes.s1 } },
  { id: 'workerpool', fn: 'workerpool', params: { jobs: sizes.s1 } },
  { id: 'raw-idb', fn: 'rawIdb', params: { jobs: sizes.s6, perRecord: sizes.perRecord } },
  { id: 's1-memory', fn: 's1', params: { jobs: sizes.s1, store: 'memory' } },
  { id: 's1-idb', fn: 's1', params: { jobs: sizes.s1, store: 'idb' } },
  { id: 's2', fn: 's2', params: { jobs: sizes.s2, ms: 1 } },
  { id: 's2-memory', fn: 's2', params: { jobs: sizes.s2, ms: 1, store: 'memory' } },
  { id: 'workerpool-cpu', fn: 'workerpool', params: { jobs: sizes.s2, ms: 1 } },
  { id: 's3', fn: 's3', params: { jobs: sizes.s3 } },
  { id: 's5', fn: 's5', params: { jobs: sizes.s5 } },
  { id: 's6', fn: 's6', params: { jobs: sizes.s6 } },
  { id: 's6-5000', fn: 's6', params: { jobs: 5000 } },
  { id: 's7', fn: 's7', params: { abortGrace: 1000 } },
  { id: 's8', fn: 's8', params: { megabytes: sizes.s8 } },
  { id: 's9', fn: 's9', params: { jobs: sizes.s9 } },
  { id: 's10-without', fn: 's10', params: { jobs: sizes.s10, inspector: false, paragraphs: 200 } },
  { id: 's10-inspector', fn: 's10', params: { jobs: sizes.s10, inspector: true, paragraphs: 200 } },
  { id: 's11', fn: 's11', params: {} },
  { id: 's12', fn: 's12', params: { jobs: sizes.s12, ms: 20, kb: 200, resultKb: 50 } },
  { id: 'workerpool-mix', fn: 's12', params: { jobs: sizes.s12, ms: 20, kb: 200, resultKb: 50, contender: 'workerpool' } },
  // Batch tasks are new: no --compare run against an older src/ (its defineTasks has no `batch`).
  { id: 's13-batch', fn: 's13', params: { jobs: sizes.s13, callMs: 5, itemMs: 0.1 }, compare: false },
].filter((r) => !only || only.some((o) => r.id.startsWith(o)))

const found = await findChromium()
if (!found) {
  console.error(HOW_TO_GET_CHROMIUM)
  process.exit(1)
}

async function buildPage(srcDir, dir) {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: here('./page/'),
    resolve: {
      alias: [
        { find: /^offthread\/worker$/, replacement: `${srcDir}/worker.ts` },
        { find: /^offthread\/inspector$/, replacement: `${srcDir}/inspector.ts` },
        { find: /^offthread$/, replacement: `${srcDir}/index.ts` },
      ],
    },
    build: {
      outDir: dir,
      emptyOutDir: true,
      target: 'es2022',
      minify: !args.includes('--no-minify'),
      // S11's app page beside the bench page: a page that loads offthread alone.
      rollupOptions: { input: { main: here('./page/index.html'), s11: here('./page/s11.html') } },
    },
    worker: { format: 'es' },
  })
  return preview({ configFile: false, logLevel: 'warn', build: { outDir: dir }, preview: { host: '127.0.0.1', port: 0, open: false } })
}
const server = await buildPage(here('../src'), outDir)
const { port } = server.httpServer.address()
let refServer
if (compareRef) {
  const { execFileSync } = await import('node:child_process')
  const refDir = here('../test-results/bench-ref/')
  rmSync(refDir, { recursive: true, force: true })
  mkdirSync(refDir, { recursive: true })
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(compareRef)} src | tar -x -C ${JSON.stringify(refDir)}`], { cwd: here('..') })
  refServer = await buildPage(`${refDir}src`, here('../test-results/bench-ref-page/'))
}
// --disk: a persistent profile, IndexedDB on disk as in a user's browser (a plain context keeps it in memory).
const disk = args.includes('--disk')
const launchOptions = {
  executablePath: found.path,
  headless: true,
  args: [...CHROMIUM_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
}
const profile = disk ? mkdtempSync(join(tmpdir(), 'offthread-bench-')) : undefined
const context = profile ? await chromium.launchPersistentContext(profile, launchOptions) : undefined
const browser = context ? context.browser() : await chromium.launch(launchOptions)

const samples = new Map(runs.map((r) => [r.id, []]))
const refSamples = new Map(runs.map((r) => [r.id, []]))
async function openPage(p) {
  const page = await (context ?? browser).newPage()
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await page.goto(`http://127.0.0.1:${p}/?workers=${workers}`)
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'ready')
  return page
}
try {
  const page = await openPage(port)
  const refPage = refServer ? await openPage(refServer.httpServer.address().port) : undefined
  for (let round = 1; round <= rounds; round++) {
    for (const run of runs) {
      for (const [label, target, into] of [
        ['', page, samples],
        ['ref ', refPage, refSamples],
      ]) {
        if (!target || (label && (!/^s\d/.test(run.id) || run.compare === false))) continue
        const t0 = Date.now()
        const cdp = profiling && round === 1 ? await startProfile(target) : undefined
        const value = await target.evaluate(({ fn, params }) => window.bench[fn](params), run)
        if (cdp) await stopProfile(cdp, `${label.trim() || 'now'}-${run.id}`)
        into.get(run.id).push(value)
        process.stderr.write(`round ${round}/${rounds} ${label}${run.id}: ${JSON.stringify(round2(value))} (${Date.now() - t0} ms)\n`)
      }
    }
    await page.evaluate(() => window.bench.dropDatabases())
    await refPage?.evaluate(() => window.bench.dropDatabases())
  }
} finally {
  await (context ?? browser).close()
  if (profile) rmSync(profile, { recursive: true, force: true })
  await server.close()
  await refServer?.close()
}

async function startProfile(target) {
  const cdp = await target.context().newCDPSession(target)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  await cdp.send('Profiler.start')
  return cdp
}

/** Self time by function (where the main thread's time went), the top 20; the whole profile to a file. */
async function stopProfile(cdp, name) {
  const { profile } = await cdp.send('Profiler.stop')
  await cdp.detach()
  const file = here(`../test-results/bench-${name}.cpuprofile`)
  writeFileSync(file, JSON.stringify(profile))
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  let total = 0
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame
    const key = `${functionName || '(anonymous)'} ${url ? `${url.split('/').pop()}:${lineNumber + 1}` : ''}`.trim()
    const dt = profile.timeDeltas[i] ?? 0
    self.set(key, (self.get(key) ?? 0) + dt)
    total += dt
  })
  console.error(`profile of ${name}: ${(total / 1000).toFixed(0)} ms sampled (${file}); self time, top 20:`)
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.error(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`)
  }
}

function round2(value) {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Math.round(v * 100) / 100]))
}
const stat = (id, key, from = samples) => {
  const values = (from.get(id) ?? [])
    .map((s) => s[key])
    .filter((v) => typeof v === 'number')
    .sort((a, b) => a - b)
  if (values.length === 0) return undefined
  return { median: values[Math.floor((values.length - 1) / 2)], min: values[0], max: values[values.length - 1], n: values.length }
}

// The targets of the performance issue, each a value, a limit, and how they compare.
const med = (id, key) => stat(id, key)?.median
const rows = []
const row = (scenario, what, id, key, unit, target) => {
  const s = stat(id, key)
  if (!s) return
  const check = target?.(s.median)
  rows.push({ scenario, what, unit, ...s, target: check?.text ?? '', pass: check ? check.pass : undefined })
}
const ratio = (base) => (v) => (base ? v / base : NaN)
const wp = med('workerpool', 'jobsPerSec')
row('baseline', `raw postMessage, ${workers} workers`, 'raw-postmessage', 'jobsPerSec', 'jobs/s')
row('baseline', `workerpool, ${workers} workers`, 'workerpool', 'jobsPerSec', 'jobs/s')
row('baseline', 'raw IndexedDB, one transaction', 'raw-idb', 'jobsPerSecOneTx', 'jobs/s')
row('baseline', 'raw IndexedDB, a transaction per job', 'raw-idb', 'jobsPerSecTxEach', 'jobs/s')
row('baseline', 'raw IndexedDB, 2 puts per job (insert, completion)', 'raw-idb', 'jobsPerSecTwoPuts', 'jobs/s')
row('baseline', "raw IndexedDB, 2 puts per job, idbStore's indexes", 'raw-idb', 'jobsPerSecTwoPutsIndexed', 'jobs/s')
const twoPuts = med('raw-idb', 'jobsPerSecTwoPuts')
const twoPutsIndexed = med('raw-idb', 'jobsPerSecTwoPutsIndexed')
row('S1', `${sizes.s1} no-op jobs, memoryStore`, 's1-memory', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 1.5× workerpool (${ratio(wp)(v).toFixed(2)}×)`,
  pass: ratio(wp)(v) >= 1.5,
}))
row('S1', `${sizes.s1} no-op jobs, idbStore`, 's1-idb', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 0.5× workerpool (${ratio(wp)(v).toFixed(2)}×), ≥ 0.9× 2 puts (${ratio(twoPuts)(v).toFixed(2)}×; indexed ${ratio(twoPutsIndexed)(v).toFixed(2)}×)`,
  pass: ratio(wp)(v) >= 0.5 && ratio(twoPuts)(v) >= 0.9,
}))
const ideal = workers * 1000
row('S2', `${sizes.s2} jobs of 1 ms CPU, from stored to done`, 's2', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 0.9× ${ideal} (${(v / ideal).toFixed(2)}×)`,
  pass: v >= 0.9 * ideal,
}))
row('S2', 'same, addBulk included', 's2', 'withAddJobsPerSec', 'jobs/s')
row('S2', `${sizes.s2} jobs of 1 ms CPU, memoryStore`, 's2-memory', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 0.9× ${ideal} (${(v / ideal).toFixed(2)}×)`,
  pass: v >= 0.9 * ideal,
}))
row('baseline', `workerpool, ${sizes.s2} jobs of 1 ms CPU`, 'workerpool-cpu', 'jobsPerSec', 'jobs/s')
row('S3', `add → result, ${sizes.s3} times, p50`, 's3', 'p50', 'ms', (v) => ({ text: '≤ 3 ms', pass: v <= 3 }))
row('S3', `add → result, ${sizes.s3} times, p99`, 's3', 'p99', 'ms', (v) => ({ text: '≤ 10 ms', pass: v <= 10 }))
row('S4', 'long tasks ≥ 50 ms during S1 (idbStore)', 's1-idb', 'longTasks', 'count', (v) => ({ text: '0', pass: v === 0 }))
row('S4', 'longest task during S1 (idbStore)', 's1-idb', 'longestTask', 'ms')
row('S5', `${sizes.s5} jobs stored: first job started`, 's5', 'firstStartMs', 'ms', (v) => ({ text: '≤ 200 ms', pass: v <= 200 }))
row('S5', 'same, on an empty store', 's5', 'emptyFirstStartMs', 'ms')
row('S5', `${sizes.s5} jobs stored: heap growth vs an empty store`, 's5', 'heapGrowthMB', 'MB', (v) => ({ text: '≤ 10 MB', pass: v <= 10 }))
const rawPut = med('raw-idb', 'jobsPerSecOneTx')
row('S6', `addBulk ${sizes.s6} jobs, durable`, 's6', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 0.5× raw one-tx (${ratio(rawPut)(v).toFixed(2)}×)`,
  pass: ratio(rawPut)(v) >= 0.5,
}))
row('S1', 'readwrite transaction open, p50 (idbStore)', 's1-idb', 'txP50', 'ms')
row('S1', 'readwrite transaction open, p99', 's1-idb', 'txP99', 'ms')
row('S1', 'readwrite transaction open, max', 's1-idb', 'txMax', 'ms')
row('S1', 'of which the page is needed (to the last request), p50', 's1-idb', 'pageP50', 'ms')
row('S1', 'of which the page is needed, p99', 's1-idb', 'pageP99', 'ms')
row('S1', 'of which the page is needed, max', 's1-idb', 'pageMax', 'ms')
row('S6', 'addBulk 5000: its transaction open, max', 's6-5000', 'txMax', 'ms')
row('S6', 'addBulk 5000: of which the page is needed', 's6-5000', 'pageMax', 'ms')
row('S7', 'cancel, cooperative handler', 's7', 'cooperativeMs', 'ms', (v) => ({ text: '≤ 20 ms', pass: v <= 20 }))
row('S7', 'cancel, handler ignoring its signal (abortGrace 1000)', 's7', 'ignoringMs', 'ms', (v) => ({ text: '≤ 1100 ms', pass: v <= 1100 }))
row('S8', `add a job of ${sizes.s8} MB (transfer)`, 's8', 'addMs', 'ms')
row('S8', 'then list() of 20 jobs, on a fresh queue', 's8', 'listMs', 'ms', (v) => ({ text: '≤ 20 ms', pass: v <= 20 }))
row('S8', 'then getJob(big).result(), on a fresh queue', 's8', 'getJobMs', 'ms')
row('S8', 'long tasks ≥ 50 ms, add to result', 's8', 'longTasks', 'count', (v) => ({ text: '0', pass: v === 0 }))
row('S8', 'longest task, add to result', 's8', 'longestTask', 'ms')
row('S9', `${sizes.s9} stored: list() newest 20`, 's9', 'listMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', "list({ name: 'nomatch' })", 's9', 'listNoMatchMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'list({ offset: last page })', 's9', 'listLastPageMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'list({ status, name, offset: ¼ })', 's9', 'listStatusNameOffsetMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'list({ status, name, before: seq at ¼ }) (keyset)', 's9', 'listKeysetMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'list({ status: [two] })', 's9', 'listTwoStatusesMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'counts()', 's9', 'countsMs', 'ms', (v) => ({ text: '≤ 50 ms', pass: v <= 50 }))
row('S9', 'long tasks ≥ 50 ms over these', 's9', 'longTasks', 'count', (v) => ({ text: '0', pass: v === 0 }))
// S10: the inspector's cost, the same jobs with and without it, each against the run without.
const vsWithout = (key) => (v) => {
  const base = med('s10-without', key)
  return { text: base ? `${(v / base).toFixed(2)}× without` : '', pass: undefined }
}
for (const [id, label] of [
  ['s10-without', 'no inspector'],
  ['s10-inspector', 'with <offthread-inspector>'],
]) {
  const compared = id === 's10-inspector'
  row('S10', `${sizes.s10} short jobs, ${label}: long tasks ≥ 50 ms`, id, 'longTasks', 'count', (v) => ({ text: '0', pass: v === 0 }))
  row('S10', `same: longest task`, id, 'longestTask', 'ms')
  row('S10', `same: frame interval p50`, id, 'frameP50', 'ms', compared ? vsWithout('frameP50') : undefined)
  row('S10', `same: frame interval p99`, id, 'frameP99', 'ms', compared ? vsWithout('frameP99') : undefined)
  row('S10', `same: throughput`, id, 'jobsPerSec', 'jobs/s', compared ? vsWithout('jobsPerSec') : undefined)
}
row('S11', 'a built app: page load to its first job started (a cached reload)', 's11', 'firstStartMs', 'ms')
const wpMix = med('workerpool-mix', 'jobsPerSec')
row('baseline', `workerpool, S12's mix`, 'workerpool-mix', 'jobsPerSec', 'jobs/s')
row('baseline', `workerpool, S12's mix: long tasks ≥ 50 ms`, 'workerpool-mix', 'longTasks', 'count')
row('S12', `${sizes.s12} jobs of 20 ms, 200 kB in, 50 kB out, ${sizes.s12} adds in one turn`, 's12', 'jobsPerSec', 'jobs/s', (v) => ({
  text: `≥ 0.9× workerpool (${ratio(wpMix)(v).toFixed(2)}×)`,
  pass: ratio(wpMix)(v) >= 0.9,
}))
row('S12', 'same: long tasks ≥ 50 ms', 's12', 'longTasks', 'count', (v) => ({ text: '0', pass: v === 0 }))
row('S12', 'same: longest task', 's12', 'longestTask', 'ms')
row('S13', `${sizes.s13} jobs of a 5 ms call + 0.1 ms each: one call per job`, 's13-batch', 'plainMs', 'ms')
row('S13', 'same, a batch task of 50: one call per 50 jobs', 's13-batch', 'batchMs', 'ms')
row('S13', 'same: what the batch buys (one call per job ÷ batched)', 's13-batch', 'speedup', '×')

const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2))
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`,
  node: process.version,
  chromium: browser?.version() ?? 'persistent context',
  storage: disk ? 'on disk (persistent profile)' : 'in memory (a fresh context)',
  workers,
  rounds,
  mode: quick ? 'quick' : 'full',
}
console.log(
  `\noffthread bench (${machine.mode}): ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Chromium ${machine.chromium}, pool of ${workers}, median of ${rounds} round(s)\n`,
)
const table = [
  ['scenario', 'what', 'median', 'min', 'max', 'unit', 'target', 'ok'],
  ...rows.map((r) => [
    r.scenario,
    r.what,
    fmt(r.median),
    fmt(r.min),
    fmt(r.max),
    r.unit,
    r.target,
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  ]),
]
const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)))
for (const [i, r] of table.entries()) {
  console.log(r.map((c, j) => String(c).padEnd(widths[j])).join('  '))
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '))
}
if (compareRef) {
  console.log(`\nagainst ${compareRef} (same browser, rounds interleaved): median now / median then`)
  const keys = {
    s1: 'jobsPerSec',
    s2: 'jobsPerSec',
    s3: 'p50',
    s5: 'firstStartMs',
    s6: 'jobsPerSec',
    s7: 'cooperativeMs',
    s8: 'listMs',
    s9: 'worstMs',
    s10: 'longestTask',
    s11: 'firstStartMs',
    s12: 'jobsPerSec',
  }
  const extra = {
    s3: ['p99'],
    s5: ['heapGrowthMB'],
    s1: ['longTasks'],
    s8: ['addMs', 'getJobMs', 'longestTask'],
    s9: ['countsMs', 'longestTask'],
    s10: ['longTasks', 'frameP50', 'frameP99'],
    s12: ['longTasks', 'longestTask'],
  }
  for (const run of runs.filter((r) => /^s\d/.test(r.id))) {
    const scenario = /^s\d+/.exec(run.id)[0]
    for (const key of [keys[scenario], ...(extra[scenario] ?? [])]) {
      const now = stat(run.id, key)
      const then = stat(run.id, key, refSamples)
      if (!now || !then) continue
      console.log(
        `  ${run.id.padEnd(10)} ${key.padEnd(14)} ${fmt(now.median).padStart(9)} / ${fmt(then.median).padStart(9)}  = ${(now.median / then.median).toFixed(2)}×`,
      )
    }
  }
}
const failed = rows.filter((r) => r.pass === false)
console.log(failed.length === 0 ? '\nevery target met' : `\ntargets missed: ${failed.map((r) => `${r.scenario} ${r.what}`).join('; ')}`)

const resultsFile = quick || only ? here('../test-results/bench-partial.json') : here('./results.json')
const resultsPayload = { date: new Date().toISOString(), machine, sizes, rows, samples: Object.fromEntries(samples) }
if (compareRef) Object.assign(resultsPayload, { compareRef, refSamples: Object.fromEntries(refSamples) })
writeFileSync(compareRef ? here('../test-results/bench-compare.json') : resultsFile, `${JSON.stringify(resultsPayload, null, 2)}\n`)
if (!quick && !compareRef && !only) writeFileSync(here('./chart.svg'), chart(rows))
console.log(`\nwrote ${compareRef ? 'test-results/bench-compare.json' : resultsFile}${quick || compareRef || only ? '' : ' and bench/chart.svg'}`)

/** Throughput side by side: horizontal bars, one group per scenario. */
function chart(all) {
  const bars = all.filter((r) => r.unit === 'jobs/s')
  const max = Math.max(...bars.map((r) => r.median))
  const h = 26
  const left = 330
  const width = 900
  const lines = bars.map((r, i) => {
    const w = ((width - left - 90) * r.median) / max
    const y = 40 + i * h
    const color = r.scenario === 'baseline' ? '#9aa5b1' : '#2f6fde'
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${r.scenario}: ${escape(r.what)}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${h - 8}" fill="${color}"/><text x="${left + w + 6}" y="${y + 15}">${fmt(r.median)}</text>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${60 + bars.length * h}" font-family="system-ui, sans-serif" font-size="13"><text x="10" y="22" font-weight="bold">offthread throughput, jobs/s (median of ${rounds}; grey: baselines; ${machine.cpus} cores, pool of ${workers})</text>${lines.join('')}</svg>\n`
}
function escape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
}
