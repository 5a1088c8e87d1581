/** A clock tests move by hand: sleeping advances it instantly and records how long was asked. */
export class FakeClock {
  readonly sleeps: number[] = [];
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.ms += ms;
  };
  advance(ms: number): void {
    this.ms += ms;
  }
  set(date: Date): void {
    this.ms = date.getTime();
  }
}
