import { describe, expect, it } from 'vitest';
import { nextSlot, parseSchedule } from '../../lib/schedule';
import { codeSpan, markedTables } from './markdown';

// The tables of docs/schedules.md marked `<!-- check: … -->` state facts about the schedule code;
// each row is checked against it.
const FILE = 'docs/schedules.md';

/** "2026-03-08 03:00 (UTC-04:00)": the slot's wall-clock time and offset in the job's zone. */
function localTime(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : parts.timeZoneName!.slice(3);
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (UTC${offset})`;
}

describe(`${FILE}: next-slot examples`, () => {
  const rows = markedTables(FILE, 'check: next-slot').flat();

  it('has examples', () => expect(rows.length).toBeGreaterThan(10));

  it.each(rows.map((row) => [`line ${row.line}`, row.cells] as const))('%s', (_line, cells) => {
    const [scheduleCell = '', zoneCell = '', after = '', expected = '', local = ''] = cells;
    const schedule = codeSpan(scheduleCell)!;
    const timeZone = codeSpan(zoneCell)!;
    const next = nextSlot(schedule, timeZone, new Date(after));
    if (expected.startsWith('none')) {
      expect(next).toBeNull();
      return;
    }
    expect(next?.toISOString()).toBe(new Date(expected).toISOString());
    expect(localTime(next!, timeZone)).toBe(local);
  });
});

describe(`${FILE}: refused schedules`, () => {
  const rows = markedTables(FILE, 'check: rejected-schedules').flat();

  it('has examples', () => expect(rows.length).toBeGreaterThan(5));

  it.each(rows.map((row) => [`line ${row.line}`, row.cells] as const))('%s', (_line, cells) => {
    const [scheduleCell = '', messageCell = ''] = cells;
    expect(() => parseSchedule(codeSpan(scheduleCell)!)).toThrow(codeSpan(messageCell)!);
  });
});
