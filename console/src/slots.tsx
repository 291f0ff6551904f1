import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type PreviewSlot } from './api';
import { formatTime, viewerZone } from './format';

const DST_WORDS = { spring_forward: 'clocks go forward', fall_back: 'clocks go back' } as const;

/**
 * The next slots of a schedule as the API computes them (the engine's own slots): each in the
 * job's zone with its UTC offset, in UTC, and in the viewer's zone; a slot after which the zone's
 * offset changed carries a daylight-saving mark saying when and how.
 */
export function SlotTable(props: { slots: PreviewSlot[]; timezone: string; caption: string }) {
  if (props.slots.length === 0) return <p class="muted">No slot left: it will not run again.</p>;
  return (
    // Focusable, so a keyboard can scroll it when a narrow column makes it wider than its box.
    <div class="table-wrap" role="region" aria-label={props.caption} tabIndex={0}>
      <table class="slots">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{props.timezone} (job’s zone)</th>
            <th scope="col">UTC</th>
            <th scope="col">{viewerZone} (yours)</th>
          </tr>
        </thead>
        <tbody>
          {props.slots.map((slot) => (
            <tr key={slot.utc} class={slot.dst_transition ? 'dst' : undefined}>
              <td>
                {slot.local.replace('T', ' ')} <span class="muted">{slot.offset}</span>
                {slot.dst_transition ? (
                  <div class="dst-mark">
                    <span class="badge badge-dst">DST</span> {DST_WORDS[slot.dst_transition.kind]}{' '}
                    at {formatTime(slot.dst_transition.at, props.timezone)} (
                    {slot.dst_transition.offset_before} → {slot.dst_transition.offset_after})
                  </div>
                ) : null}
              </td>
              <td>{slot.utc.replace('T', ' ').replace(/\.000Z$|Z$/, '')}</td>
              <td>{formatTime(slot.utc)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const PREVIEW_SLOTS = 5;
// Wait for the typing to pause before asking, so a preview is one request per edit, not per key.
const TYPING_PAUSE_MS = 300;

/**
 * The create/edit form's live preview (GET /schedules/preview): the next slots of what is typed,
 * or the API's reason it cannot schedule it. Advisory: saving is what validates.
 */
export function SchedulePreview(props: { schedule: string; timezone: string }) {
  const [state, setState] = useState<
    { slots: PreviewSlot[]; timezone: string } | { problem: string } | null
  >(null);
  useEffect(() => {
    if (!props.schedule) {
      setState(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      const query = new URLSearchParams({
        schedule: props.schedule,
        timezone: props.timezone || 'UTC',
        count: String(PREVIEW_SLOTS),
      });
      api<{ slots: PreviewSlot[]; timezone: string }>('GET', `/schedules/preview?${query}`).then(
        ({ body }) => current && setState({ slots: body.slots, timezone: body.timezone }),
        (error: Error) => {
          if (!current) return;
          const problem = error instanceof ApiError ? error.problem : undefined;
          const messages = problem?.errors?.map((entry) => entry.message);
          setState({ problem: messages?.join('; ') || problem?.detail || error.message });
        },
      );
    }, TYPING_PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.schedule, props.timezone]);
  return (
    <section class="preview" aria-labelledby="preview-heading">
      <h2 id="preview-heading">Next runs</h2>
      <div aria-live="polite">
        {state === null ? (
          <p class="muted">Type a schedule to see when it runs.</p>
        ) : 'problem' in state ? (
          <p class="muted preview-problem">Cannot preview: {state.problem}</p>
        ) : (
          <SlotTable
            slots={state.slots}
            timezone={state.timezone}
            caption="Upcoming runs, previewed"
          />
        )}
      </div>
    </section>
  );
}
