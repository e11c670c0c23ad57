import { Controller, Param, Put, Query, Req } from '@nestjs/common';
import type { Request } from 'express';
import { CurrentAccount, NotRateLimited, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { SettlesCatalogue } from '../database/settle.interceptor';
import { queryParam } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { singleDocument } from '../jsonapi/serializer';
import { ApiDocument } from '../openapi/decorators';
import { ArtifactSerializer } from '../releases/artifact.serializer';
import { UploadUrlsService } from './upload-urls.service';

/**
 * The upload URL of local storage (`Location` of the 307 that an empty-body artifact PUT answers):
 * `PUT /v1/accounts/:account/artifacts/:artifactId/:filename?expires=..&signature=..` with the
 * file's bytes and no other credential. Streams and verifies like `PUT /releases/:id/artifact`.
 */
@SettlesCatalogue()
@Controller('v1/accounts/:account/artifacts')
export class SignedUploadController {
  constructor(private readonly uploadUrls: UploadUrlsService) {}

  @ApiDocument(ArtifactSerializer, 'single')
  @Put(':artifactId/*filename')
  @Public()
  @NotRateLimited()
  async upload(
    @CurrentAccount() account: AccountRef,
    @Param('artifactId') artifactId: string,
    @Param('filename') filename: string | string[],
    @Query() query: Q,
    @Req() req: Request,
  ) {
    const expires = queryParam(query, 'expires');
    const target = {
      accountId: account.id,
      artifactId,
      filename: Array.isArray(filename) ? filename.join('/') : filename,
      expires: expires !== undefined && /^\d{1,12}$/.test(expires) ? Number(expires) : NaN,
    };
    return singleDocument(ArtifactSerializer, await this.uploadUrls.receive(target, queryParam(query, 'signature'), req));
  }
}
