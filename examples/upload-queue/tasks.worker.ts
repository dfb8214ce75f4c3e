// The worker: each job uploads one file. `network: true`: while the browser is offline
// the job is not started, and an attempt cut off by the network (fetch throws a
// TypeError) goes back to waiting for it without using up an attempt.
import { defineTasks } from 'offthread/worker'

/** One file to upload: where to, its name and its bytes. */
export interface UploadInput {
  endpoint: string
  name: string
  bytes: Uint8Array
}

const tasks = defineTasks({
  upload: {
    network: true,
    retry: { attempts: 5, backoff: 'exponential', delay: 1000 },
    async handler(input: UploadInput, ctx): Promise<{ status: number; stored: string }> {
      ctx.log.info(`uploading ${input.name} (${input.bytes.byteLength} bytes)`)
      const response = await fetch(input.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(input.name) },
        body: input.bytes as BodyInit,
        signal: ctx.signal,
      })
      // A server error is retried with backoff; a client error (4xx) is not worth another try.
      if (response.status >= 500) throw new Error(`the server answered ${response.status}`)
      if (!response.ok) throw Object.assign(new Error(`the server refused ${input.name}: ${response.status}`), { name: 'Refused' })
      return { status: response.status, stored: await response.text() }
    },
  },
})

export type Tasks = typeof tasks
