import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({ imports: [UsersModule], controllers: [AccountsController], providers: [AccountsService] })
export class AccountsModule {}
