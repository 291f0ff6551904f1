/**
 * Schedule preview: the next slots of a schedule in its zone, in local time and UTC, with the
 * daylight-saving transitions that fall between them marked. The slots are the engine's own:
 * `nextSlot` (the function the sweep uses to set next_run) iterated from each slot, so a preview
 * cannot show a slot the engine would not fire, nor miss one it would.
 */
import { nextSlot, utcOffsetMinutes } from './schedule';

/** How many slots one preview may ask for, and how many it gets when it does not say. */
export const PREVIEW_MAX_SLOTS = 100;
export const PREVIEW_DEFAULT_SLOTS = 10;

export type DstTransitionKind = 'spring_forward' | 'fall_back';

/**
 * A change of UTC offset between the previous slot (or the start of the preview) and this one.
 * `at` is the instant the clocks changed; the slot's local time may have been moved by it (a slot
 * in a spring-forward gap fires when the clocks jump; a repeated fall-back hour fires once).
 */
export interface DstTransition {
  kind: DstTransitionKind;
  at: string;
  offset_before: string;
  offset_after: string;
}

export interface PreviewSlot {
  /** Wall-clock time in the zone, without offset: `2026-03-29T03:00:00`. */
  local: string;
  utc: string;
  /** The zone's UTC offset at the slot: `+02:00`. */
  offset: string;
  dst_transition: DstTransition | null;
  /** When a run of the slot is due: `utc` plus the job's spread offset (`utc` without one). */
  runs_at: string;
}

/** A job's timing beyond its schedule: its active window and the spread offset of its runs. */
export interface SlotWindow {
  starts_at: Date | null;
  ends_at: Date | null;
  spread_offset_ms: number;
}

const NO_WINDOW: SlotWindow = { starts_at: null, ends_at: null, spread_offset_ms: 0 };

/**
 * The first `count` slots whose runs are due strictly after `from` (as catch-up.ts's nextRunOf
 * reckons: slot + spread offset), inside the window [starts_at, ends_at]; fewer when the schedule
 * or the window ends.
 */
export function previewSlots(
  schedule: string,
  timeZone: string,
  from: Date,
  count: number,
  window: SlotWindow = NO_WINDOW,
): PreviewSlot[] {
  const slots: PreviewSlot[] = [];
  let start = from.getTime() - window.spread_offset_ms;
  // A slot exactly at starts_at belongs to the window.
  if (window.starts_at && window.starts_at.getTime() - 1 > start) {
    start = window.starts_at.getTime() - 1;
  }
  let previous = new Date(start);
  let previousOffset = utcOffsetMinutes(timeZone, previous);
  for (let slot = nextSlot(schedule, timeZone, previous); slot;) {
    if (window.ends_at && slot > window.ends_at) break;
    const offset = utcOffsetMinutes(timeZone, slot);
    slots.push({
      local: localTime(slot, offset),
      utc: slot.toISOString(),
      offset: formatOffset(offset),
      dst_transition:
        offset === previousOffset
          ? null
          : {
              kind: offset > previousOffset ? 'spring_forward' : 'fall_back',
              at: transitionInstant(timeZone, previous, slot).toISOString(),
              offset_before: formatOffset(previousOffset),
              offset_after: formatOffset(offset),
            },
      runs_at: new Date(slot.getTime() + window.spread_offset_ms).toISOString(),
    });
    if (slots.length >= count) break;
    previous = slot;
    previousOffset = offset;
    slot = nextSlot(schedule, timeZone, slot);
  }
  return slots;
}

/**
 * The first instant in (low, high] whose offset is that of `high`, by bisection (about 35 steps
 * for slots a year apart). Should the zone change twice in between, this finds one of the changes.
 */
function transitionInstant(timeZone: string, low: Date, high: Date): Date {
  const target = utcOffsetMinutes(timeZone, high);
  let before = low.getTime();
  let after = high.getTime();
  while (after - before > 1) {
    const middle = before + Math.floor((after - before) / 2);
    if (utcOffsetMinutes(timeZone, new Date(middle)) === target) after = middle;
    else before = middle;
  }
  return new Date(after);
}

function localTime(slot: Date, offsetMinutes: number): string {
  return new Date(slot.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  return `${sign}${pad(abs / 60)}:${pad(abs % 60)}`;
}
