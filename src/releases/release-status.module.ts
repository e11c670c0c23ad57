import { Module } from '@nestjs/common';
import { ReleaseStatusService } from './release-status.service';

/**
 * The yank service on its own, so that both releases (yank, publish) and artifacts (upload,
 * removal) can change a release's status without importing each other.
 */
@Module({ providers: [ReleaseStatusService], exports: [ReleaseStatusService] })
export class ReleaseStatusModule {}
