/**
 * The worker's sleep between looks at the queue: a timer that a poke (a NOTIFY, an
 * abort) cuts short. A poke while awake is remembered, so a message queued during
 * a drain run is looked at at once instead of after the next sleep.
 */
export class Waker {
  /** Poked since the last `reset()`. */
  poked = false;
  private wake: (() => void) | undefined;

  constructor(private readonly signal?: AbortSignal) {}

  readonly poke = (): void => {
    this.poked = true;
    this.wake?.();
  };

  /** Forgets earlier pokes: called before each look at the queue. */
  reset(): void {
    this.poked = false;
  }

  /** Sleeps `ms`, or less if poked or aborted (at once if that already happened). */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.poked || this.signal?.aborted) this.wake();
    }).finally(() => (this.wake = undefined));
  }
}
