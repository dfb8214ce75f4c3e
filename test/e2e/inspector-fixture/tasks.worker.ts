// The inspector fixture's tasks: quick ones that complete, one that fails, a long one that reports progress.
import { defineTasks } from 'offthread/worker'

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

class UploadError extends Error {
  override name = 'UploadError'
  code = 'E_UPLOAD'
}

export const tasks = defineTasks({
  async thumbnail(input: { file: string; width: number }, ctx) {
    ctx.log.info(`decoding ${input.file}`)
    await sleep(5, ctx.signal)
    ctx.log.info('resized', { width: input.width })
    return { file: input.file.replace(/\.\w+$/, `@${input.width}.webp`), bytes: 1200 + input.width * 7 }
  },
  async upload(input: { file: string; bytes: number }, ctx) {
    ctx.log.info(`uploading ${input.file}`, { bytes: input.bytes })
    await sleep(5, ctx.signal)
    ctx.log.warn('server answered 503')
    throw new UploadError(`Upload of ${input.file} failed: 503 Service Unavailable`, {
      cause: new TypeError('NetworkError when attempting to fetch resource'),
    })
  },
  async transcode(input: { file: string; seconds: number }, ctx) {
    const steps = input.seconds * 4
    for (let i = 1; i <= steps; i++) {
      await sleep(250, ctx.signal)
      ctx.progress(Math.round((i / steps) * 100))
    }
    return `${input.file}.mp4`
  },
  noop: (n: number) => n,
})

export type Tasks = typeof tasks
