import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Entitlement } from '../entitlements/entitlement.entity';
import { ProductsModule } from '../products/products.module';
import { License, LicenseEntitlement } from './license.entity';
import { LicensesController } from './licenses.controller';
import { LicensesService } from './licenses.service';
import { UserLicensesController } from './user-licenses.controller';
import { LicenseSelfServiceController } from './self-service.controller';
import { UsersModule } from '../users/users.module';

@Module({
  imports: [TypeOrmModule.forFeature([License, LicenseEntitlement, Entitlement]), ProductsModule, UsersModule],
  controllers: [LicensesController, UserLicensesController, LicenseSelfServiceController],
  providers: [LicensesService],
  exports: [LicensesService],
})
export class LicensesModule {}
