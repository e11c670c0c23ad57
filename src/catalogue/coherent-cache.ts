import { LRUCache } from 'lru-cache';

export interface CoherentCacheOptions<V> {
  /** Entries at most (counts), or a size budget with `sizeOf` (bytes). */
  max?: number;
  maxSize?: number;
  sizeOf?(value: V): number;
  /** Older entries are still served, and reloaded in the background (the safety net behind NOTIFY). */
  ttlMs: number;
  /** Reads the value from the database; null when there is nothing (never stored). */
  load(key: string): Promise<V | null>;
  /** Counts hits and misses (metrics). */
  onLookup?(hit: boolean): void;
  /** Called when an entry leaves the cache (evicted, invalidated or replaced). */
  onRemove?(value: V): void;
  /** Called when a load's value is kept (after the entry it replaces, if any, has left). */
  onStore?(value: V): void;
}

interface Stored<V> {
  value: V;
  loadedAt: number;
}

interface Loading<V> {
  promise: Promise<V | null>;
  /** Set when the key was invalidated while loading: the result answers its callers but is not kept. */
  stale: boolean;
}

/**
 * A bounded cache (least recently used entries go first) whose loads never resurrect what an
 * invalidation removed: a load that was running when its key was invalidated answers the callers
 * that were already waiting and is then dropped, and the next caller starts a fresh load.
 * Concurrent misses of one key share one load.
 */
export class CoherentCache<V extends object> {
  private readonly store: LRUCache<string, Stored<V>>;
  private readonly loading = new Map<string, Loading<V>>();

  constructor(private readonly options: CoherentCacheOptions<V>) {
    const sizeOf = options.sizeOf;
    const limits: LRUCache.Options<string, Stored<V>, unknown> = options.maxSize
      ? { maxSize: options.maxSize, sizeCalculation: (s) => Math.max(1, sizeOf ? sizeOf(s.value) : 1) }
      : { max: options.max ?? 1000 };
    if (options.onRemove) limits.dispose = (s) => options.onRemove!(s.value);
    this.store = new LRUCache<string, Stored<V>>(limits);
  }

  get size(): number {
    return this.store.size;
  }

  /** Bytes (or entries) held, as counted against the budget. */
  get calculatedSize(): number {
    return this.store.calculatedSize ?? this.store.size;
  }

  /** The cached value if present (no load, no TTL check, not counted as a lookup). */
  peek(key: string): V | undefined {
    return this.store.get(key)?.value;
  }

  /**
   * The value when it is held (a hit; an entry past its TTL answers now and is reloaded in the
   * background), undefined when it must be loaded (the fast path's read: see get to load).
   */
  held(key: string): V | undefined {
    const stored = this.store.get(key);
    if (!stored) return undefined;
    this.options.onLookup?.(true);
    if (Date.now() - stored.loadedAt > this.options.ttlMs && !this.loading.has(key)) {
      this.fetch(key).catch(() => undefined);
    }
    return stored.value;
  }

  /** The value, loaded when it is not held (concurrent misses share one load); null: nothing. */
  get(key: string): Promise<V | null> {
    const value = this.held(key);
    if (value !== undefined) return Promise.resolve(value);
    this.options.onLookup?.(false);
    return this.fetch(key);
  }

  private fetch(key: string): Promise<V | null> {
    const running = this.loading.get(key);
    if (running) return running.promise;
    const entry: Loading<V> = { promise: undefined as unknown as Promise<V | null>, stale: false };
    entry.promise = this.options.load(key).then(
      (value) => {
        if (this.loading.get(key) === entry) this.loading.delete(key);
        if (!entry.stale) {
          if (value) {
            this.store.set(key, { value, loadedAt: Date.now() });
            this.options.onStore?.(value);
          } else {
            this.store.delete(key);
          }
        }
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === entry) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, entry);
    return entry.promise;
  }

  invalidate(key: string): void {
    this.store.delete(key);
    const running = this.loading.get(key);
    if (running) {
      running.stale = true;
      this.loading.delete(key);
    }
  }

  /** Starts loading `key` unless it is held or loading (the fast path, after a miss, for the next request). */
  prefetch(key: string): void {
    if (!this.store.has(key)) this.fetch(key).catch(() => undefined);
  }

  /** Marks a running load of `key` stale (its result answers its callers and is not kept); the held value stays. */
  invalidateLoad(key: string): void {
    const running = this.loading.get(key);
    if (running) {
      running.stale = true;
      this.loading.delete(key);
    }
  }

  /** Counts a held value's size again after it changed in place (sizeOf). */
  resize(key: string): void {
    const stored = this.store.peek(key);
    if (stored) this.store.set(key, stored, { noDisposeOnSet: true });
  }

  /** Marks every running load stale, or those whose key matches (a change whose key cannot be told yet). */
  invalidateLoading(matches?: (key: string) => boolean): void {
    for (const [key, running] of [...this.loading]) {
      if (matches && !matches(key)) continue;
      running.stale = true;
      this.loading.delete(key);
    }
  }

  /** Invalidates every entry whose value matches (a scan: for small caches or rare changes). */
  invalidateWhere(matches: (value: V) => boolean): void {
    const keys: string[] = [];
    for (const [key, stored] of this.store.entries()) if (matches(stored.value)) keys.push(key);
    for (const key of keys) this.invalidate(key);
  }

  clear(): void {
    this.store.clear();
    this.invalidateLoading();
  }

  values(): IterableIterator<V> {
    const it = this.store.values();
    return (function* () {
      for (const s of it) yield s.value;
    })();
  }
}
