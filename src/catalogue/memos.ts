/**
 * Every kind of answer kept in memory between requests, in one table: its bound and the rule that
 * clears it. A memo is kept on the load of a product's releases it was computed from
 * (ProductReleases), so whatever changes that product's releases (a new load: a new generation)
 * drops every memo of the product at once; a kind that also shows counters is dropped as well when
 * the counters' version moves. A new memo is one line here, not a new scheme.
 *
 * Bounds are per product load; a kind past its bound is emptied and refilled (answers are cheap to
 * compute again, and a full table means many distinct callers rather than a few hot ones).
 */
export const MEMO_KINDS = {
  /**
   * The visible releases at the top of a release line, per visibility class and line filters
   * (update checks, feeds); what each offers from a caller's version is kept inside and counted here.
   */
  lineTop: { max: 8192, counters: false },
  /** A platform group's platforms (feeds). */
  platforms: { max: 256, counters: false },
  /** A customer's visible releases sorted for a list, per visibility class, filters and sort. */
  releaseList: { max: 256, counters: false },
  /** A serialized list page per URL: it shows counters. */
  listPage: { max: 64, counters: true },
  /** The 303 document of an offered release, serialized with slots for the URL and the caller's version. */
  upgradeDocument: { max: 8192, counters: false },
  /** The Cryptlex update answer of an offered release, serialized with a slot for the URL. */
  v3Update: { max: 8192, counters: false },
  /** An electron feed's YAML per offered set of files. */
  electronYaml: { max: 1024, counters: false },
  /** A license's feed plan (what it is offered, the YAML or Tauri template), per feed, channel, platform group and version. */
  feedPlan: { max: 8192, counters: false },
  /** A download URL per artifact, for the second it expires at (the signature is the same within it). */
  downloadUrl: { max: 8192, counters: false },
  /** A package's releases in this product load, highest precedence first (engines). */
  packageReleases: { max: 256, counters: false },
  /** An engine's answer (a PyPI page, an npm packument) per package, format, visibility class and rollout cohort. */
  engineAnswer: { max: 8192, counters: false },
} as const;

export type MemoKind = keyof typeof MEMO_KINDS;

/** One kind's entries of one product load. */
export class MemoTable {
  private readonly byKey = new Map<string, unknown>();
  private byObject = new WeakMap<object, unknown>();
  private size = 0;
  private version = 0;

  constructor(private readonly max: number) {}

  /** Empties the table when the counters moved since it was filled (kinds that show counters). */
  at(version: number): this {
    if (version !== this.version) {
      this.clear();
      this.version = version;
    }
    return this;
  }

  get<T>(key: string, compute: () => T): T {
    if (this.byKey.has(key)) return this.byKey.get(key) as T;
    const value = compute();
    this.count();
    this.byKey.set(key, value);
    return value;
  }

  /** Keyed by an object that is itself kept by this load (an offered release): no key string. */
  of<T>(key: object, compute: () => T): T {
    if (this.byObject.has(key)) return this.byObject.get(key) as T;
    const value = compute();
    this.count();
    this.byObject.set(key, value);
    return value;
  }

  /** Counts one more entry kept inside a value of this kind (what its callers add to it). */
  count(): void {
    if (++this.size <= this.max) return;
    this.clear();
    this.size = 1;
  }

  private clear(): void {
    this.byKey.clear();
    // a WeakMap cannot be emptied: the entries go with a new one
    this.byObject = new WeakMap();
    this.size = 0;
  }
}

/** The memo tables of one product load, one per kind, made on first use. */
export class Memos {
  private readonly tables = new Map<MemoKind, MemoTable>();

  /** The kind's table; `countersVersion` for kinds that show counters (MEMO_KINDS[kind].counters). */
  table(kind: MemoKind, countersVersion = 0): MemoTable {
    let table = this.tables.get(kind);
    if (!table) this.tables.set(kind, (table = new MemoTable(MEMO_KINDS[kind].max)));
    return MEMO_KINDS[kind].counters ? table.at(countersVersion) : table;
  }
}

/**
 * Kinds that depend on no product's releases: each value is a pure function of its key, so an
 * entry never goes stale and the only clearing rule is the bound (a full table is emptied).
 */
export const PROCESS_MEMO_KINDS = {
  /** A license's `versionPin` compiled to precedence comparisons, per pin text. */
  compiledPin: { max: 4096 },
  /**
   * A product's policy compiled for the decision (its minimum version as precedence columns),
   * per policy facts object: the catalogue replaces facts when a product changes, never edits them.
   */
  productPolicy: { max: 4096 },
} as const;

export type ProcessMemoKind = keyof typeof PROCESS_MEMO_KINDS;

const PROCESS_TABLES = new Map<ProcessMemoKind, MemoTable>();

/** The process-wide table of a kind in PROCESS_MEMO_KINDS, made on first use. */
export function processMemo(kind: ProcessMemoKind): MemoTable {
  let table = PROCESS_TABLES.get(kind);
  if (!table) PROCESS_TABLES.set(kind, (table = new MemoTable(PROCESS_MEMO_KINDS[kind].max)));
  return table;
}
