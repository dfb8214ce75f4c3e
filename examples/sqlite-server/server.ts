// A job server on Bun or Deno, durable in one SQLite file: POST /jobs with a text adds a
// job, GET /jobs/:id says where it is (and its result). Jobs survive a restart of the
// process; two processes on the same file share the queue (one of them runs it).
//
//   bun examples/sqlite-server/server.ts                     (PORT=8787 by default)
//   deno run -A examples/sqlite-server/server.ts
//   curl -X POST --data 'to be or not to be' localhost:8787/jobs
//   curl localhost:8787/jobs/<id>
import { createQueue } from 'offthread'
import { sqliteStore } from 'offthread/sqlite'
import type { Tasks } from './tasks.worker'

declare const Deno:
  | {
      env: { get(name: string): string | undefined }
      serve(options: { port: number }, handler: (request: Request) => Promise<Response>): { shutdown(): Promise<void> }
    }
  | undefined
declare const Bun:
  | { env: Record<string, string | undefined>; serve(options: { port: number; fetch: (request: Request) => Promise<Response> }): { stop(): void } }
  | undefined

const env = (name: string): string | undefined => (typeof Deno !== 'undefined' ? Deno.env.get(name) : Bun?.env[name])
const port = Number(env('PORT') ?? 8787)

const queue = createQueue<Tasks>({
  name: 'reports',
  store: sqliteStore(env('DB') ?? './reports.db'),
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  concurrency: 2,
})

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

async function handle(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url)
  if (request.method === 'POST' && pathname === '/jobs') {
    const text = await request.text()
    if (text.length === 0 || text.length > 1_000_000) return json({ error: 'send a text of 1 to 1,000,000 characters' }, 400)
    const job = await queue.add('report', text)
    return json({ id: job.id, status: job.status }, 201)
  }
  const match = /^\/jobs\/([^/]+)$/.exec(pathname)
  if (request.method === 'GET' && match) {
    const job = await queue.getJob(decodeURIComponent(match[1] as string))
    if (!job) return json({ error: 'no such job' }, 404)
    const snapshot = job.getSnapshot()
    const result = snapshot.status === 'completed' ? await job.result() : undefined
    return json({
      id: job.id,
      status: snapshot.status,
      progress: snapshot.progress ?? 0,
      attempt: snapshot.attempt,
      result,
      error: snapshot.error?.message,
    })
  }
  return json({ error: 'POST /jobs, or GET /jobs/:id' }, 404)
}

const server = typeof Deno !== 'undefined' ? Deno.serve({ port }, handle) : Bun?.serve({ port, fetch: handle })
console.log(`listening on http://localhost:${port} (${typeof Deno !== 'undefined' ? 'Deno' : 'Bun'}), jobs in ${env('DB') ?? './reports.db'}`)

// Ctrl-C (or a SIGTERM): the running jobs finish, then the process ends.
const stop = async (): Promise<void> => {
  await queue.close()
  if (server && 'shutdown' in server) await server.shutdown()
  else server?.stop()
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  if (typeof Deno !== 'undefined')
    (Deno as unknown as { addSignalListener(s: string, f: () => void): void }).addSignalListener(
      signal,
      () => void stop().then(() => (Deno as unknown as { exit(c: number): void }).exit(0)),
    )
  else
    (globalThis as unknown as { process: { on(s: string, f: () => void): void; exit(c: number): void } }).process.on(
      signal,
      () => void stop().then(() => (globalThis as unknown as { process: { exit(c: number): void } }).process.exit(0)),
    )
}
