/** The request's id, given by edgeMiddleware (src/jsonapi/edge.ts). */
export function requestIdOf(req: unknown): string {
  return (req as { id?: string }).id ?? 'unknown';
}
