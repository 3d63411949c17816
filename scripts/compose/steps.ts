/** Each step of the run printed with its duration, and what must be undone at the end. */
export const started = Date.now();

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  process.stdout.write(`▶ ${name}\n`);
  try {
    const value = await run();
    process.stdout.write(`✔ ${name} (${secs(Date.now() - t0)}, at ${secs(Date.now() - started)})\n`);
    return value;
  } catch (err) {
    process.stdout.write(`✘ ${name} (${secs(Date.now() - t0)}): ${(err as Error).message}\n`);
    throw err;
  }
}

export function note(text: string): void {
  process.stdout.write(`  · ${text}\n`);
}

const undo: { name: string; run: () => Promise<void> }[] = [];

/** Registers what to undo; `cleanUp` runs them last first. */
export function onCleanUp(name: string, run: () => Promise<void>): void {
  undo.push({ name, run });
}

export async function cleanUp(): Promise<void> {
  for (let last = undo.pop(); last; last = undo.pop()) {
    const { name, run } = last;
    try {
      await step(`clean up: ${name}`, run);
    } catch {
      // Reported by step(); the other clean-ups still run.
    }
  }
}

export function elapsed(): string {
  return secs(Date.now() - started);
}
