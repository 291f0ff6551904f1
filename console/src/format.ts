import type { Job } from './api';

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const formats = new Map<string, Intl.DateTimeFormat>();
function formatIn(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(undefined, {
        dateStyle: 'medium',
        timeStyle: 'medium',
        timeZone: zone,
      });
    } catch {
      format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    }
    formats.set(zone, format);
  }
  return format;
}

/** An instant as the viewer reads it (their zone) or in a given zone. */
export function formatTime(iso: string | null | undefined, zone = viewerZone): string {
  if (!iso) return '—';
  return formatIn(zone).format(new Date(iso));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "in 5 minutes", "3 hours ago" */
export function fromNow(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return '';
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export type JobState = 'active' | 'paused' | 'failing' | 'inactive';

/** What the jobs list shows at a glance. */
export function jobState(job: Job): JobState {
  if (job.paused_at) return 'paused';
  if (!job.is_active) return 'inactive';
  if (job.metadata.last_execution_status === 'error') return 'failing';
  return 'active';
}

export const errorCount = (job: Job): number =>
  typeof job.metadata.error_count === 'number' ? job.metadata.error_count : 0;

/** Metadata keys the engine keeps up to date; the rest is the executor's config. */
export const ENGINE_KEYS = new Set([
  'execution_count',
  'error_count',
  'last_execution_status',
  'last_error',
  'last_duration_ms',
  'consecutive_failures',
]);
