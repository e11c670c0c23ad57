/** Error codes of the artifacts module (the shared ones, CHECKSUM_MISMATCH etc., live in jsonapi/errors.ts). */
export enum ArtifactErrorCode {
  /** A signed download URL was altered, forged or is missing its signature. */
  SIGNATURE_INVALID = 'SIGNATURE_INVALID',
  /** An authentic signed download URL whose `expires` has passed. */
  SIGNATURE_EXPIRED = 'SIGNATURE_EXPIRED',
  /** A `Content-Digest` header that cannot be read (400). */
  CONTENT_DIGEST_INVALID = 'CONTENT_DIGEST_INVALID',
  /** `Range` outside the file (416). */
  RANGE_NOT_SATISFIABLE = 'RANGE_NOT_SATISFIABLE',
  /** The client went away before the upload's last byte (the answer cannot reach it). */
  REQUEST_ABORTED = 'REQUEST_ABORTED',
}
