/**
 * A small typed event emitter: `on`, `off`, `once`. Written here rather than using
 * node:events so listener types are checked per event name.
 *
 * A listener that throws never breaks the loop that emitted (the socket driver is in the
 * middle of draining the endpoint): emit() catches it, calls the remaining listeners, and
 * hands the exception to onListenerError(), which by default rethrows it asynchronously,
 * so it surfaces as an uncaught exception with the listener's own stack, as a throw from a
 * node:events listener on a socket would. Subclasses may route it to an "error" event.
 */
export type Listener<A extends unknown[]> = (...args: A) => void;

/** Throws `error` from a fresh task: the process's uncaughtException path sees it, the caller does not. */
export function rethrowAsync(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

export class TypedEmitter<M extends { [K in keyof M]: unknown[] }> {
  private readonly listeners: { [K in keyof M]?: Listener<M[K]>[] } = {};

  on<K extends keyof M>(name: K, fn: Listener<M[K]>): this {
    (this.listeners[name] ??= []).push(fn);
    return this;
  }

  off<K extends keyof M>(name: K, fn: Listener<M[K]>): this {
    const list = this.listeners[name];
    if (list !== undefined) this.listeners[name] = list.filter((f) => f !== fn);
    return this;
  }

  once<K extends keyof M>(name: K, fn: Listener<M[K]>): this {
    const wrapper: Listener<M[K]> = (...args) => {
      this.off(name, wrapper);
      fn(...args);
    };
    return this.on(name, wrapper);
  }

  listenerCount(name: keyof M): number {
    return this.listeners[name]?.length ?? 0;
  }

  /** Calls every listener of `name`; returns false when there were none. A throw goes to onListenerError. */
  protected emit<K extends keyof M>(name: K, ...args: M[K]): boolean {
    const list = this.listeners[name];
    if (list === undefined || list.length === 0) return false;
    if (list.length === 1) {
      // The common case (one on("data")): no copy of the list per call.
      try {
        (list[0] as Listener<M[K]>)(...args);
      } catch (e) {
        this.onListenerError(name, e);
      }
      return true;
    }
    for (const fn of [...list]) {
      try {
        fn(...args);
      } catch (e) {
        this.onListenerError(name, e);
      }
    }
    return true;
  }

  /** What happens to an exception a listener of `name` threw. Defaults to rethrowAsync. */
  protected onListenerError(name: keyof M, error: unknown): void {
    void name;
    rethrowAsync(error);
  }
}
