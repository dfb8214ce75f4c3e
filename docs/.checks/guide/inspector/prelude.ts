declare const queue: import('offthread').Queue<import('./tasks.worker').Tasks>
