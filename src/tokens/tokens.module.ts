import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { SignInFailureDelay } from './failure-delay';
import { Token } from './token.entity';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [TypeOrmModule.forFeature([Token]), UsersModule],
  controllers: [TokensController],
  providers: [TokensService, SignInFailureDelay],
  exports: [TokensService],
})
export class TokensModule {}
