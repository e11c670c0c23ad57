import { Module } from '@nestjs/common';

// placeholder: filled in by the releases work
@Module({})
export class ReleasesModule {}
