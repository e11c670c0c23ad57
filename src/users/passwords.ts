import bcrypt from 'bcryptjs';

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

export function verifyPassword(password: string, digest: string | null): Promise<boolean> {
  // compare against a throwaway digest when there is none, so timing does not reveal which emails exist
  return bcrypt.compare(password, digest ?? '$2b$10$CwTycUXWue0Thq9StjUM0uJ8p1sQbYl2x6C3sSg0N5mYp1UXl1h8K');
}
