import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-http-bearer';
import type { AuthenticatedRequest } from '../access/decorators';
import { AuthService } from './auth.service';
import type { Bearer } from '../access/bearer';

/** passport-http-bearer verifies `Authorization: Bearer` tokens against the account in the path. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly auth: AuthService) {
    super({ passReqToCallback: true });
  }

  validate(req: Request, token: string): Promise<Bearer> {
    return this.auth.authenticateToken((req as unknown as AuthenticatedRequest).account, token);
  }
}
