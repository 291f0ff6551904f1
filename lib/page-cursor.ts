import { ValidationError } from './errors';

/**
 * The cursor of a newest-first listing ordered by (a timestamp, id): the last row's time in
 * microseconds since the epoch and its id, opaque to clients (base64url). Used by the run list
 * and the alert delivery log.
 */
export function encodePageCursor(micros: string, id: string): string {
  return Buffer.from(`${micros}.${id}`).toString('base64url');
}

/** The (microseconds, id) of a cursor from encodePageCursor; a 400 naming `cursor` otherwise. */
export function decodePageCursor(cursor: string): { us: string; id: string } {
  const match =
    /^(\d{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(
      Buffer.from(cursor, 'base64url').toString(),
    );
  if (!match) {
    throw new ValidationError([
      { path: 'cursor', message: 'not a cursor this API returned: pass next_cursor unchanged' },
    ]);
  }
  return { us: match[1]!, id: match[2]! };
}

/**
 * A page's rows without the `cursor_us` column they were selected with, for the response. Copied
 * key by key with the key list read once: an object rest (`({ cursor_us, ...row }) => row`) over
 * rows of some 30 columns took about as long as serializing the page, and its copies serialized
 * slower too (GET /jobs?limit=50: see the README's API figures).
 */
export function withoutCursor<Row extends { cursor_us: string }>(
  rows: Row[],
): Omit<Row, 'cursor_us'>[] {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0]!).filter((key) => key !== 'cursor_us');
  return rows.map((row) => {
    const copy: Record<string, unknown> = {};
    for (const key of keys) copy[key] = row[key as keyof Row];
    return copy as Omit<Row, 'cursor_us'>;
  });
}
