import { Module } from '@nestjs/common';

// placeholder: filled in by the entitlements work
@Module({})
export class EntitlementsModule {}
