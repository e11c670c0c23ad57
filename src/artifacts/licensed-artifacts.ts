import type { Artifact } from '../releases/artifact.entity';
import type { DownloadRelease } from './download-urls.service';

/** An artifact a license may download now, with the release it belongs to. */
export interface LicensedArtifact {
  artifact: Artifact;
  release: DownloadRelease;
}

/**
 * What a signed download URL issued to a license checks at each download: the uploaded artifact
 * named by id and filename, if that license of the account may download it now (not suspended,
 * not expired with REVOKE_ACCESS, holding every entitlement the release's constraints ask for:
 * ReleaseVisibilityPolicy); null otherwise. Declared here, provided by the catalogue, which
 * answers from memory when warm and keeps the license's facts coherent on every instance.
 */
export abstract class LicensedArtifacts {
  abstract find(accountId: string, licenseId: string, artifactId: string, filename: string): Promise<LicensedArtifact | null>;
}
