import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { UsersModule } from '../users/users.module';
import { AccountsOperatorController } from './accounts-operator.controller';
import { AccountsOperatorService } from './accounts-operator.service';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  imports: [UsersModule, ArtifactsModule],
  controllers: [AccountsController, AccountsOperatorController],
  providers: [AccountsService, AccountsOperatorService],
})
export class AccountsModule {}
