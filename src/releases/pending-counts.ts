/**
 * The downloads and upgrades counted on this instance and not written yet, added to a release as
 * the API shows it. Declared here, provided by counters/ (CountersService), which sits above
 * releases/: it tallies uses of releases and records them as events with the release's document.
 */
export abstract class PendingCounts {
  /** The release with the counts not written yet added (a copy when there are any). */
  abstract withPending<T extends { id: string; accountId: string; downloads: number; upgrades: number }>(release: T): T;
}
