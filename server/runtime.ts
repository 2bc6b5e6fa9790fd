import crypto from "node:crypto";

// Time, ids and randomness come through here so tests can pin them.

let clock: () => Date = () => new Date();

export function now(): Date {
  return clock();
}

export function newId(): string {
  return crypto.randomUUID();
}

export function randomToken(bytes = 24): string {
  return crypto.randomBytes(bytes).toString("base64url");
}

/** Tests set a fixed or moving clock; null restores the real one. */
export function setClock(next: (() => Date) | null): void {
  clock = next ?? (() => new Date());
}
