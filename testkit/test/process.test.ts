import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAndWait, startProcess, waitUntil } from '../src/process.js';

const node = process.execPath;

describe('processes', () => {
  it('keeps the output and resolves `exited` with the exit code', async () => {
    const p = startProcess(node, ['-e', 'console.log("out"); console.error("err"); process.exit(3)']);
    expect(await p.exited).toBe(3);
    expect(p.running()).toBe(false);
    expect(p.output()).toContain('out');
    expect(p.output()).toContain('err');
  });

  it('stop() sends the signal, then SIGKILL when the process ignores it', async () => {
    const p = startProcess(node, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)']);
    await waitUntil(() => p.output().includes('up'), { what: 'the child' });
    await p.stop('SIGTERM', 300);
    expect(p.running()).toBe(false);
    expect(p.child.signalCode).toBe('SIGKILL');
  });

  it('waitUntil polls until the check holds; a throwing check counts as not yet', async () => {
    let n = 0;
    await waitUntil(
      () => {
        n += 1;
        if (n < 3) throw new Error('not yet');
        return n >= 4;
      },
      { what: 'four calls', intervalMs: 1 },
    );
    expect(n).toBe(4);
    await expect(waitUntil(() => false, { what: 'never', timeoutMs: 50, intervalMs: 5 })).rejects.toThrow('never: not within 50 ms');
  });

  it('startAndWait fails at once, with the output, when the process exits before it is ready', async () => {
    await expect(
      startAndWait(node, ['-e', 'console.error("bad config"); process.exit(1)'], { what: 'the server', timeoutMs: 10_000, ready: () => false }),
    ).rejects.toThrow(/the server: the process exited \(1\) first:\nbad config/);
  });

  it('startAndWait kills a process that never gets ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-process-'));
    const pidFile = join(dir, 'pid');
    try {
      await expect(
        startAndWait(node, ['-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`], {
          what: 'the server',
          timeoutMs: 2000,
          ready: () => false,
        }),
      ).rejects.toThrow('the server: not within 2000 ms');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
