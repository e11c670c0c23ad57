/** The request's id, given by the JSON:API edge (see jsonApiEdge). */
export function requestIdOf(req: unknown): string {
  return (req as { id?: string }).id ?? 'unknown';
}

/** Notes the code of the error a request is answered with, for its request log line (see requestObserver). */
export function noteErrorCode(req: unknown, code: string): void {
  (req as { errorCode?: string }).errorCode = code;
}
