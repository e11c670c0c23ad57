/** Error codes of the packages resource (besides the common ones of jsonapi/errors.ts). */
export enum PackageErrorCode {
  /** Deleting the package would leave two releases of one version outside any package. */
  PACKAGE_HAS_RELEASES = 'PACKAGE_HAS_RELEASES',
}
