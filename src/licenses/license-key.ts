import { randomBytes } from 'node:crypto';

/** 18 random bytes = 144 bits, written as 36 uppercase hex digits in 6 groups of 6. */
export const LICENSE_KEY_BYTES = 18;
export const LICENSE_KEY_FORMAT = /^[0-9A-F]{6}(?:-[0-9A-F]{6}){5}$/;

/** A new license key like `6C02A4-3DFD81-4169A3-3050D8-EC8FC1-C4D894`. */
export function generateLicenseKey(): string {
  const hex = randomBytes(LICENSE_KEY_BYTES).toString('hex').toUpperCase();
  return hex.match(/.{6}/g)!.join('-');
}

/** A key chosen by the vendor: 8..255 visible ASCII characters (no whitespace, no control characters): short keys are guessable. */
export const GIVEN_LICENSE_KEY = /^[\x21-\x7E]{8,255}$/;
