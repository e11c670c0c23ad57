import type { Release } from '../releases/release.entity';

/** The release object of Cryptlex's v3 release API (plain JSON). */
export interface V3Release {
  id: string;
  name: string | null;
  channel: string;
  version: string;
  platform: string;
  filename: string;
  published: boolean;
  url: string;
  filesize: number | null;
  checksum: string | null;
  productId: string;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
}

/** `<PUBLIC_URL>/v3/<id>?key=<key>`: the key only for license callers (token callers send their token). */
export function v3DownloadUrl(publicUrl: string, releaseId: string, licenseKey?: string): string {
  const base = `${publicUrl}/v3/${releaseId}`;
  return licenseKey ? `${base}?key=${encodeURIComponent(licenseKey)}` : base;
}

export function toV3Release(release: Release, url: string): V3Release {
  return {
    id: release.id,
    name: release.name,
    channel: release.channel,
    version: release.version,
    platform: release.platform,
    filename: release.filename,
    published: release.status === 'PUBLISHED',
    url,
    filesize: release.filesize,
    checksum: release.checksum,
    productId: release.productId,
    notes: release.description,
    createdAt: release.created.toISOString(),
    updatedAt: release.updated.toISOString(),
  };
}
