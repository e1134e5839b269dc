/**
 * Failed logins per client in a fixed window: past `max` failures a client waits
 * for the window to end. The table is bounded (oldest entries go first), so a flood
 * of addresses cannot grow the server's memory.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 15 * 60_000,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds the client must wait before trying again, or 0. */
  retryAfter(client: string, now = Date.now()): number {
    const entry = this.failures.get(client);
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.max ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  failed(client: string, now = Date.now()): void {
    let entry = this.failures.get(client);
    if (!entry || entry.resetAt <= now) {
      this.failures.delete(client);
      if (this.failures.size >= this.maxClients) this.failures.delete(this.failures.keys().next().value!);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.failures.set(client, entry);
    }
    entry.count++;
  }

  succeeded(client: string): void {
    this.failures.delete(client);
  }
}
