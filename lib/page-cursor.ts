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
