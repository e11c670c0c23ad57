import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';

@Global()
@Module({
  imports: [PassportModule],
  providers: [AuthService, BearerStrategy, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
