/** Messages by key, delivered to whoever waits for them, whichever comes first. */
export class Mailbox<T> {
  private readonly waiting = new Map<string, (value: T) => void>();
  private readonly arrived = new Map<string, T>();

  put(key: string, value: T): void {
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      waiter(value);
    } else this.arrived.set(key, value);
  }

  take(key: string): Promise<T> {
    const value = this.arrived.get(key);
    if (value !== undefined) {
      this.arrived.delete(key);
      return Promise.resolve(value);
    }
    if (this.waiting.has(key)) throw new Error(`mailbox: ${key} is already awaited`);
    return new Promise((resolve) => this.waiting.set(key, resolve));
  }

  /** Drops undelivered messages of earlier steps (a failed step's leftovers). */
  dropWhere(stale: (key: string) => boolean): void {
    for (const key of [...this.arrived.keys()]) if (stale(key)) this.arrived.delete(key);
  }
}
