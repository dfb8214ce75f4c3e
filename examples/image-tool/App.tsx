import { useEffect, useMemo } from 'react'
import type { JobSnapshot } from 'offthread'
import { useCounts, useJob, useJobs } from 'offthread/react'
import { queue } from './queue'
import type { ShrinkOutput } from './tasks.worker'

/** Files from an <input>: one job each, its bytes stored with the job (a reload does not lose it). */
async function addFiles(files: FileList | null): Promise<void> {
  for (const file of files ?? []) {
    await queue.add('shrink', { name: file.name, png: new Uint8Array(await file.arrayBuffer()) })
  }
}

function Result({ output }: { output: ShrinkOutput }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([output.png as BlobPart], { type: 'image/png' })), [output])
  useEffect(() => () => URL.revokeObjectURL(url), [url])
  return (
    <span>
      <img src={url} alt={output.name} data-width={output.width} /> {output.width}×{output.height}, codec {output.codecMs.toFixed(1)} ms
    </span>
  )
}

/** A job's row: the list gives its status and progress; its result (not in list reads) comes from its own live lookup. */
function Row({ job }: { job: JobSnapshot }) {
  const { job: full } = useJob<ShrinkOutput>(queue, job.status === 'completed' ? job.id : undefined)
  const busy = job.status === 'waiting' || job.status === 'running' || job.status === 'delayed'
  return (
    <li data-status={job.status}>
      <progress max={100} value={typeof job.progress === 'number' ? job.progress : 0} /> <span className="status">{job.status}</span>{' '}
      {busy && (
        <button className="cancel" onClick={() => void queue.cancel(job.id, 'cancelled by the user')}>
          cancel
        </button>
      )}
      {full?.status === 'completed' && full.result && <Result output={full.result} />}
      {job.status === 'failed' && <span className="error">{job.error?.message}</span>}
    </li>
  )
}

export function App() {
  // Live: every status change, progress and result, from this tab or another one.
  const { jobs } = useJobs(queue, { name: 'shrink' })
  const { counts } = useCounts(queue)
  return (
    <main>
      <h1>Shrink PNGs off the main thread</h1>
      <input id="files" type="file" accept="image/png" multiple onChange={(event) => void addFiles(event.currentTarget.files)} />
      <p id="counts">
        {counts.completed} done, {counts.running} running, {counts.waiting} waiting
      </p>
      <ul id="jobs">
        {jobs.map((job) => (
          <Row key={job.id} job={job} />
        ))}
      </ul>
    </main>
  )
}
