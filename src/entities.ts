import { Account } from './accounts/account.entity';
import { Artifact } from './releases/artifact.entity';
import { Entitlement } from './entitlements/entitlement.entity';
import { License, LicenseEntitlement } from './licenses/license.entity';
import { Product } from './products/product.entity';
import { Package } from './packages/package.entity';
import { ReleaseConstraint } from './releases/release-constraint.entity';
import { Release } from './releases/release.entity';
import { ReleaseOffer } from './releases/release-offer.entity';
import { ArtifactConstraint } from './releases/artifact-constraint.entity';
import { Token } from './tokens/token.entity';
import { User } from './users/user.entity';
import { EventRecord } from './events/event.entity';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity';

/**
 * Every TypeORM entity, for the data source (dataSourceOptions). An app file: the entities belong
 * to the domain folders, which sit above database/, so the list is put together here.
 */
export const ENTITIES = [Account, User, Token, Product, Package, Entitlement, License, LicenseEntitlement, Release, ReleaseConstraint, Artifact, ArtifactConstraint, ReleaseOffer, EventRecord, WebhookEndpoint, WebhookDelivery];
