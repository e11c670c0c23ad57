import { Module } from '@nestjs/common';

// placeholder: filled in by the licenses work
@Module({})
export class LicensesModule {}
