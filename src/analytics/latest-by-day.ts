import { compareVersionOrder } from '../releases/semver';
import type { SemverColumns } from '../releases/semver';

/** One time a release was PUBLISHED (a row of release_publications), with the release's version. */
export interface PublishedSpan extends Pick<SemverColumns, 'semverMajor' | 'semverMinor' | 'semverPatch' | 'semverIsRelease' | 'semverPreKey' | 'semverBuildKey'> {
  version: string;
  /** Epoch milliseconds. */
  started: number;
  /** Epoch milliseconds; null while it is still published. */
  ended: number | null;
}

/**
 * The version that was latest at each of `ends` (epoch milliseconds, ascending): the highest
 * (compareVersionOrder, as SQL orders precedenceColumns) among the spans alive then, that is
 * started before it and not ended before it; null when none was. One sweep over the spans in
 * order of start with a heap of the started ones, the highest on top; a span that ended is
 * dropped when it reaches the top (the ends only grow): O(spans log spans + ends), whatever the
 * number of releases or how they were published.
 */
export function latestAtEnds(spans: readonly PublishedSpan[], ends: readonly number[]): Array<string | null> {
  const byStart = [...spans].sort((a, b) => a.started - b.started);
  const heap: PublishedSpan[] = [];
  const out: Array<string | null> = [];
  let next = 0;
  for (const end of ends) {
    while (next < byStart.length && byStart[next].started < end) push(heap, byStart[next++]);
    while (heap.length && heap[0].ended !== null && heap[0].ended < end) pop(heap);
    out.push(heap.length ? heap[0].version : null);
  }
  return out;
}

/** Whether `a` sits above `b` in the heap: the higher version. */
const above = (a: PublishedSpan, b: PublishedSpan) => compareVersionOrder(a, b) > 0;

function push(heap: PublishedSpan[], span: PublishedSpan): void {
  let i = heap.push(span) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!above(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function pop(heap: PublishedSpan[]): void {
  const last = heap.pop()!;
  if (!heap.length) return;
  heap[0] = last;
  for (let i = 0; ; ) {
    const left = 2 * i + 1;
    const right = left + 1;
    let top = i;
    if (left < heap.length && above(heap[left], heap[top])) top = left;
    if (right < heap.length && above(heap[right], heap[top])) top = right;
    if (top === i) return;
    [heap[i], heap[top]] = [heap[top], heap[i]];
    i = top;
  }
}
