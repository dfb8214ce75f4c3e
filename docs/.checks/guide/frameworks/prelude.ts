declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
declare const handle: import('offthread').JobHandle<Blob, { done: number; total: number }>
declare function Row(props: { job: { id: string } }): null
