export interface ConnectionCapSettings {
  /** Sockets on this replica; 0: no cap. */
  maxConnections: number;
  /** Sockets of one client address on this replica; 0: no cap. */
  maxConnectionsPerClient: number;
}

/** Counts the open sockets of a replica, in all and per client address, against their caps. */
export class ConnectionCaps {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly settings: ConnectionCapSettings) {}

  /** Why a new socket of `client` would exceed a cap, or null when it may open. */
  refusal(client: string): 'replica' | 'client' | null {
    const { maxConnections, maxConnectionsPerClient } = this.settings;
    if (maxConnections > 0 && this.total >= maxConnections) return 'replica';
    if (maxConnectionsPerClient > 0 && (this.perClient.get(client) ?? 0) >= maxConnectionsPerClient) return 'client';
    return null;
  }

  opened(client: string): void {
    this.total += 1;
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
  }

  closed(client: string): void {
    this.total -= 1;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(client);
    else this.perClient.set(client, n);
  }
}
