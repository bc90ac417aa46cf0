/** A part of the app with an ordered start and stop. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Stop gracefully; `deadline` is the epoch ms by which everything must be closed. */
  stop(deadline: number): Promise<void>;
}

/**
 * Starts components in order and stops them in reverse. A failed start stops what already
 * started, so a port conflict never leaves half an app running.
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  private started: Component[] = [];

  add(component: Component): void {
    this.components.push(component);
  }

  async start(): Promise<void> {
    for (const component of this.components) {
      try {
        await component.start();
      } catch (err) {
        await this.stop(Date.now() + 2000).catch(() => undefined);
        throw err;
      }
      this.started.push(component);
    }
  }

  /** Stops every started component, in reverse order; collects errors and throws the first afterwards. */
  async stop(deadline: number): Promise<void> {
    const errors: unknown[] = [];
    for (const component of this.started.reverse()) {
      try {
        await component.stop(deadline);
      } catch (err) {
        errors.push(err);
      }
    }
    this.started = [];
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * Waits for `work` until `deadline` (epoch ms): true when it settled in time (fulfilled or
 * rejected), false when the deadline came first. Never rejects; the timer is cleared either way.
 */
export function settledBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}
