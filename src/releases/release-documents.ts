import type { Request } from 'express';
import { apiVersionOf, hasArtifacts } from '../jsonapi/api-version';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import type { ResourceDefinition } from '../jsonapi/serializer';
import { CREATE_RELEASE_ATTRIBUTES, CreateReleaseDto, UPDATE_RELEASE_ATTRIBUTES, UpdateReleaseDto } from './dto/release.dto';
import { CREATE_RELEASE_V11_ATTRIBUTES, CreateReleaseV11Dto, UPDATE_RELEASE_V11_ATTRIBUTES, UpdateReleaseV11Dto } from './dto/release-v11.dto';
import type { Release } from './release.entity';
import { ReleaseSerializer } from './release.serializer';
import { ReleaseSerializerV11 } from './release-v11.serializer';
import type { ReleaseNarrowing } from './releases.service';

// bodies are validated after the permission check, so that a caller who may not write gets 403, not 422
export const createReleaseBody = new JsonApiBodyPipe({
  type: 'releases',
  dto: CreateReleaseDto,
  attributes: CREATE_RELEASE_ATTRIBUTES,
  relationships: { product: { type: 'products', byCode: true } },
});
export const updateReleaseBody = new JsonApiBodyPipe({ type: 'releases', dto: UpdateReleaseDto, attributes: UPDATE_RELEASE_ATTRIBUTES, partial: true, serverOwned: ['downloads', 'upgrades'] });
export const createReleaseBodyV11 = new JsonApiBodyPipe({
  type: 'releases',
  dto: CreateReleaseV11Dto,
  attributes: CREATE_RELEASE_V11_ATTRIBUTES,
  relationships: { product: { type: 'products', byCode: true }, package: { type: 'packages', byCode: true } },
});
export const updateReleaseBodyV11 = new JsonApiBodyPipe({
  type: 'releases',
  dto: UpdateReleaseV11Dto,
  attributes: UPDATE_RELEASE_V11_ATTRIBUTES,
  relationships: { package: { type: 'packages', byCode: true } },
  partial: true,
  serverOwned: ['downloads', 'upgrades'],
});

/**
 * How a request's API version shows releases (the one place that maps the same rows to 1.0's or
 * 1.1's document, as Keygen's request migrations do): the serializer, the bodies, and how a
 * release is named in the URL.
 */
export interface ReleaseDialect {
  readonly artifacts: boolean;
  readonly serializer: ResourceDefinition<Release>;
  readonly narrow: ReleaseNarrowing;
}

const V10: ReleaseDialect = { artifacts: false, serializer: ReleaseSerializer, narrow: {} };
const V11: ReleaseDialect = { artifacts: true, serializer: ReleaseSerializerV11, narrow: { artifacts: true } };

export function releaseDialect(req: Request): ReleaseDialect {
  return hasArtifacts(apiVersionOf(req)) ? V11 : V10;
}
