import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const VALID_INCOMING = /^[A-Za-z0-9._-]{8,128}$/;

/** Gives every request an id (kept from a sane incoming X-Request-Id) and echoes it as a header. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  const id = incoming && VALID_INCOMING.test(incoming) ? incoming : randomUUID();
  (req as Request & { id: string }).id = id;
  res.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(req: unknown): string {
  return (req as { id?: string }).id ?? 'unknown';
}
