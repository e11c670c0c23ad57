import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';

/** Authentication: the guard (registered in AppModule, after the rate limits) and the credential checks. */
@Global()
@Module({
  imports: [PassportModule],
  providers: [AuthService, BearerStrategy, AuthGuard],
  exports: [AuthService, AuthGuard],
})
export class AuthModule {}
