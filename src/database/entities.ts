import { Account } from '../accounts/account.entity';
import { Artifact } from '../artifacts/artifact.entity';
import { ReleaseConstraint } from '../constraints/release-constraint.entity';
import { Entitlement } from '../entitlements/entitlement.entity';
import { License, LicenseEntitlement } from '../licenses/license.entity';
import { Product } from '../products/product.entity';
import { Release } from '../releases/release.entity';
import { Token } from '../tokens/token.entity';
import { User } from '../users/user.entity';
import { EventRecord } from '../events/event.entity';
import { WebhookDelivery } from '../webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from '../webhooks/webhook-endpoint.entity';
import { InitialSchema1732300000000 } from './migrations/1732300000000-InitialSchema';
import { CatalogueNotifications1764000000000 } from './migrations/1764000000000-CatalogueNotifications';
import { ReleasePolicy1765000000000 } from './migrations/1765000000000-ReleasePolicy';
import { ArtifactUploadUrls1765100000000 } from './migrations/1765100000000-ArtifactUploadUrls';
import { EventsWebhooksAnalytics1765200000000 } from './migrations/1765200000000-EventsWebhooksAnalytics';
import { CatalogueRowNotifications1766000000000 } from './migrations/1766000000000-CatalogueRowNotifications';

export const ENTITIES = [Account, User, Token, Product, Entitlement, License, LicenseEntitlement, Release, ReleaseConstraint, Artifact, EventRecord, WebhookEndpoint, WebhookDelivery];

/** Listed explicitly (not globbed) so that the same list works from ts (tests) and dist (server). */
export const MIGRATIONS = [
  InitialSchema1732300000000,
  CatalogueNotifications1764000000000,
  ReleasePolicy1765000000000,
  ArtifactUploadUrls1765100000000,
  EventsWebhooksAnalytics1765200000000,
  CatalogueRowNotifications1766000000000,
];
