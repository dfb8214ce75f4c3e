// Frames per second from requestAnimationFrame: if the main thread blocks, frames stop and this shows it.
export function initMeter(): void {
  const fps = document.querySelector<HTMLElement>('#fps')!
  const worst = document.querySelector<HTMLElement>('#worst')!
  let frames = 0
  let windowStart = performance.now()
  let last = windowStart
  let longest = 0
  // The worst frame of the last few seconds stays on screen long enough to read.
  const recent: Array<{ at: number; ms: number }> = []
  const tick = (now: number): void => {
    frames++
    longest = Math.max(longest, now - last)
    last = now
    if (now - windowStart >= 500) {
      const value = Math.round((frames * 1000) / (now - windowStart))
      fps.textContent = `${value} fps`
      fps.dataset['level'] = value >= 50 ? 'good' : value >= 30 ? 'meh' : 'bad'
      recent.push({ at: now, ms: longest })
      while (recent[0]!.at < now - 3000) recent.shift()
      worst.textContent = `longest frame (3 s) ${Math.round(Math.max(...recent.map((r) => r.ms)))} ms`
      frames = 0
      longest = 0
      windowStart = now
    }
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
}
