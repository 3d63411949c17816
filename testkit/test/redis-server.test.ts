import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answersPing, startRedisServer } from '../src/redis-server.js';
import { skip } from '../src/skips.js';

describe.skipIf(skip.redis)('redis-server launcher', () => {
  it('starts on a free port, survives kill and restart, and cleans up on stop', async () => {
    const redis = await startRedisServer();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await answersPing(redis.port)).toBe(true);
      await redis.kill();
      expect(await answersPing(redis.port)).toBe(false);
      await redis.restart();
      expect(await answersPing(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await answersPing(redis.port)).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('starts from a given configuration, and reports its output when it cannot start', async () => {
    const redis = await startRedisServer({ config: ({ port, dir }) => `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\n` });
    try {
      expect(await answersPing(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    await expect(startRedisServer({ config: () => 'no-such-directive yes\n' })).rejects.toThrow(/the process exited \(1\) first:[\s\S]*no-such-directive/);
  });
});
