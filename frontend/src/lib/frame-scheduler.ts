/**
 * Runs callbacks at the next animation frame, at most once per key per frame: deltas
 * can arrive every few milliseconds, the Markdown of the answer is rendered once a frame.
 * `flushFrames()` runs what is pending now (the render benchmark measures a delta's
 * render synchronously through it).
 */
const pending = new Map<object, () => void>();
let handle: number | null = null;

const raf: (cb: () => void) => number =
  typeof requestAnimationFrame === 'function'
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);
const caf: (h: number) => void =
  typeof cancelAnimationFrame === 'function' ? (h) => cancelAnimationFrame(h) : (h) => clearTimeout(h);

export function scheduleFrame(key: object, callback: () => void): void {
  pending.set(key, callback);
  handle ??= raf(flushFrames);
}

export function cancelFrame(key: object): void {
  pending.delete(key);
}

export function flushFrames(): void {
  if (handle !== null) caf(handle);
  handle = null;
  const callbacks = [...pending.values()];
  pending.clear();
  for (const cb of callbacks) cb();
}
