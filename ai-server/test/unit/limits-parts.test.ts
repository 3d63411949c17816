import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SharedReads } from '../../src/chat/shared-reads.js';
import { clientAddress } from '../../src/server/client-address.js';
import { ConnectionCaps } from '../../src/server/connection-caps.js';
import { OutboundBudget, type BufferedSocket } from '../../src/server/outbound-budget.js';

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('is the socket address without a trusted proxy, whatever the headers say', () => {
    expect(clientAddress(request('::ffff:127.0.0.1', '1.2.3.4'), 0)).toBe('127.0.0.1');
  });
  it('with N hops, the N-th X-Forwarded-For entry from the right; entries the client wrote are skipped', () => {
    expect(clientAddress(request('10.0.0.1', 'spoofed, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientAddress(request('10.0.0.1', 'spoofed, 1.2.3.4, 10.0.0.2'), 2)).toBe('1.2.3.4');
    expect(clientAddress(request('10.0.0.1', '1.2.3.4'), 3)).toBe('1.2.3.4');
    expect(clientAddress(request('10.0.0.1'), 1)).toBe('10.0.0.1');
  });
});

describe('ConnectionCaps', () => {
  it('refuses beyond the replica cap and the per-client cap, and counts closes', () => {
    const caps = new ConnectionCaps({ maxConnections: 3, maxConnectionsPerClient: 2 });
    caps.opened('a');
    caps.opened('a');
    expect(caps.refusal('a')).toBe('client');
    caps.opened('b');
    expect(caps.refusal('c')).toBe('replica');
    caps.closed('a');
    expect(caps.refusal('a')).toBeNull();
    expect(new ConnectionCaps({ maxConnections: 0, maxConnectionsPerClient: 0 }).refusal('a')).toBeNull();
  });
});

class Socket implements BufferedSocket {
  shedCount = 0;
  constructor(public bufferedAmount: number) {}
  shed(): void {
    this.shedCount += 1;
    this.bufferedAmount = 0;
  }
}

describe('OutboundBudget', () => {
  it('over the budget, sheds the longest queues until under it, and no other', () => {
    const budget = new OutboundBudget(1000);
    const sockets = [new Socket(100), new Socket(500), new Socket(300)];
    for (const s of sockets) budget.noteSent(s);
    expect(sockets.map((s) => s.shedCount)).toEqual([0, 0, 0]);
    sockets[2]!.bufferedAmount = 450;
    budget.noteSent(sockets[2]!);
    expect(sockets.map((s) => s.shedCount)).toEqual([0, 1, 0]);
  });
  it('measures again before shedding: queues that drained count as drained', () => {
    const budget = new OutboundBudget(1000);
    const a = new Socket(900);
    budget.noteSent(a);
    a.bufferedAmount = 0;
    const b = new Socket(800);
    budget.noteSent(b);
    expect([a.shedCount, b.shedCount]).toEqual([0, 0]);
  });
});

describe('SharedReads', () => {
  it('callers arriving during a read share the next one; at most two reads at once', async () => {
    let reads = 0;
    const gates: (() => void)[] = [];
    const shared = new SharedReads(async (key: string) => {
      reads += 1;
      const n = reads;
      await new Promise<void>((resolve) => gates.push(resolve));
      return `${key}#${n}`;
    });
    const first = shared.get('c');
    const later = Array.from({ length: 50 }, () => shared.get('c'));
    expect(reads).toBe(1);
    gates.shift()!();
    expect(await first).toBe('c#1');
    await new Promise((r) => setTimeout(r, 0));
    expect(reads).toBe(2);
    gates.shift()!();
    expect(new Set(await Promise.all(later))).toEqual(new Set(['c#2']));
    const again = shared.get('c');
    expect(reads).toBe(3);
    gates.shift()!();
    expect(await again).toBe('c#3');
  });
});
