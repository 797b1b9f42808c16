/**
 * A small typed event emitter: `on`, `off`, `once`. Written here rather than using
 * node:events so listener types are checked per event name; a listener that throws is
 * reported to the "error" listeners (or swallowed), never thrown into the socket loop.
 */
export type Listener<A extends unknown[]> = (...args: A) => void;

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

  /** Calls every listener of `name`; returns false when there were none. */
  protected emit<K extends keyof M>(name: K, ...args: M[K]): boolean {
    const list = this.listeners[name];
    if (list === undefined || list.length === 0) return false;
    for (const fn of [...list]) fn(...args);
    return true;
  }
}
