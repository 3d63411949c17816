/**
 * Concurrent reads of one key share one read. A caller arriving while a read runs does
 * not take that read's result (it may predate what the caller must see): it waits for the
 * next read, which starts when the running one ends and serves every caller that arrived
 * meanwhile. So at most two reads of a key are pending at once, however many callers.
 */
export class SharedReads<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly next = new Map<string, Promise<T>>();

  constructor(private readonly read: (key: string) => Promise<T>) {}

  get(key: string): Promise<T> {
    const queued = this.next.get(key);
    if (queued) return queued;
    const current = this.running.get(key);
    if (!current) return this.start(key);
    const following = current.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.next.delete(key);
      return this.start(key);
    });
    this.next.set(key, following);
    return following;
  }

  private start(key: string): Promise<T> {
    const p = this.read(key).finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
  }
}
