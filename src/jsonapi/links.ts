/** Base path of an account's resources: `/v1/accounts/<account id>`. */
export function accountPath(accountId: string): string {
  return `/v1/accounts/${accountId}`;
}
