/** The request's id, given by the JSON:API edge (see jsonApiEdge). */
export function requestIdOf(req: unknown): string {
  return (req as { id?: string }).id ?? 'unknown';
}
