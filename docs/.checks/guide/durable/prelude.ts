import { fetchRows, sendMail, toCsv, upload } from './helpers'
declare function renderDraft(id: string): Promise<string>
declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
declare const jobId: string
declare const user: { id: string }
