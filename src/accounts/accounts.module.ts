import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { UsersModule } from '../users/users.module';
import { AccountsOperatorController } from './accounts-operator.controller';
import { AccountsOperatorService } from './accounts-operator.service';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  imports: [UsersModule, StorageModule],
  controllers: [AccountsController, AccountsOperatorController],
  providers: [AccountsService, AccountsOperatorService],
})
export class AccountsModule {}
