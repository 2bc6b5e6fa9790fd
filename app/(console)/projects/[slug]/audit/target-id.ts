const uuidPattern =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An audit entry's target id as the log shows it: a uuid cut to its
 * first 8 characters (the whole one is in the title), any other id, such
 * as a source and version (`nextjs@16.2.0`), whole, since cutting it could
 * make two targets look the same. */
export function shortTargetId(id: string): string {
  return uuidPattern.test(id) ? id.slice(0, 8) : id;
}
