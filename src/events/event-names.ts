/** Every event Shipgate records: each change of a resource, and each counted use. */
export const EVENT_NAMES = [
  'release.created',
  'release.updated',
  'release.published',
  'release.yanked',
  'release.deleted',
  'release.constraints.attached',
  'release.constraints.detached',
  'artifact.uploaded',
  'artifact.deleted',
  'artifact.downloaded',
  'release.upgraded',
  'license.created',
  'license.updated',
  'license.suspended',
  'license.reinstated',
  'license.deleted',
  'product.created',
  'product.updated',
  'product.deleted',
  'package.created',
  'package.updated',
  'package.deleted',
  'user.created',
  'user.deleted',
  'token.created',
  'token.revoked',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

export function isEventName(name: string): name is EventName {
  return (EVENT_NAMES as readonly string[]).includes(name);
}
