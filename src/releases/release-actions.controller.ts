import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { singleDocument } from '../jsonapi/serializer';
import { ReleaseSerializer } from './release.serializer';
import { ReleasesService } from './releases.service';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { ApiDocument } from '../openapi/decorators';

/** Status actions (Keygen's sub-resources); the status machine in release-status.ts decides. */
@SettlesCatalogue()
@Controller('v1/accounts/:account/releases/:id/actions')
export class ReleaseActionsController {
  constructor(private readonly releases: ReleasesService) {}

  /** Hides the release from customers and stamps `yanked`; repeating it is 200. */
  @ApiDocument(ReleaseSerializer, 'single')
  @Post('yank')
  @HttpCode(200)
  async yank(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(ReleaseSerializer, await this.releases.act(bearer, account.id, id, 'yank'));
  }

  /** Publishes an unpublished or yanked release whose artifact is uploaded (else 422 ARTIFACT_NOT_UPLOADED). */
  @ApiDocument(ReleaseSerializer, 'single')
  @Post('publish')
  @HttpCode(200)
  async publish(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return singleDocument(ReleaseSerializer, await this.releases.act(bearer, account.id, id, 'publish'));
  }
}
