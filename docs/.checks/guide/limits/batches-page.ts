declare const queue: import('offthread').Queue<import('./embed.worker').Tasks>
