import { describe, expect, it } from 'vitest';
import { withoutCursor } from '../lib/page-cursor';

describe('withoutCursor', () => {
  it('drops cursor_us from every row and keeps every other column, in order', () => {
    const created = new Date('2026-11-29T22:00:00.123Z');
    const rows = [
      { id: 'a', name: 'one', metadata: { n: 1 }, created_at: created, cursor_us: '1' },
      { id: 'b', name: 'two', metadata: null, created_at: created, cursor_us: '2' },
    ];
    const page = withoutCursor(rows);
    expect(page).toEqual([
      { id: 'a', name: 'one', metadata: { n: 1 }, created_at: created },
      { id: 'b', name: 'two', metadata: null, created_at: created },
    ]);
    expect(page.map((row) => Object.keys(row))).toEqual([
      ['id', 'name', 'metadata', 'created_at'],
      ['id', 'name', 'metadata', 'created_at'],
    ]);
    expect(page[0]!.metadata).toBe(rows[0]!.metadata);
    expect(withoutCursor([])).toEqual([]);
  });
});
