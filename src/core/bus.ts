import type { AccessRecord, Alert, CheckResult, SecurityEvent } from '../store/records.js';

/** Every event published in-process, by name. Listeners must not throw; errors are logged by the bus. */
export interface VigilEvents {
  'check.result': CheckResult;
  'alert.changed': Alert;
  'access.record': AccessRecord;
  'keys.changed': { revision: number };
  'security.event': SecurityEvent;
}

type Listener<T> = (payload: T) => void;

/** A small synchronous, typed event bus. A listener that throws is reported and never breaks the publisher. */
export class EventBus {
  private readonly listeners = new Map<keyof VigilEvents, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void) {}

  on<E extends keyof VigilEvents>(event: E, listener: Listener<VigilEvents[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<E extends keyof VigilEvents>(event: E, payload: VigilEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<VigilEvents[E]>)(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}
