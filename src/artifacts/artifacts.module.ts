import { Module } from '@nestjs/common';

// placeholder: filled in by the artifacts work
@Module({})
export class ArtifactsModule {}
