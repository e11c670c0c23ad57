import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { V3Controller } from './v3.controller';
import { V3RequestMiddleware } from './v3-request.middleware';
import { V3Service } from './v3.service';

@Module({
  imports: [UpgradesModule, ArtifactsModule],
  controllers: [V3Controller],
  providers: [V3Service],
})
export class V3Module implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(V3RequestMiddleware).forRoutes(V3Controller);
  }
}
