// Training time of a run: runs while the model trains, paused while it is evaluated.
export class Stopwatch {
  private totalMs = 0;
  private startedAt: number | null = null;

  start(): void {
    this.startedAt ??= performance.now();
  }

  pause(): void {
    if (this.startedAt === null) return;
    this.totalMs += performance.now() - this.startedAt;
    this.startedAt = null;
  }

  /** Continues a run's clock from a checkpoint: `seconds` already trained. */
  add(seconds: number): void {
    this.totalMs += seconds * 1000;
  }

  get seconds(): number {
    return (this.totalMs + (this.startedAt === null ? 0 : performance.now() - this.startedAt)) / 1000;
  }
}
