import type { AlertEventData } from './events';

/** One delivery's event as every destination kind renders it. */
export interface AlertMessageInput {
  event_id: string;
  event_type: string;
  occurred_at: Date;
  tenant_id: string | null;
  data: AlertEventData;
}

const TITLES: Record<string, string> = {
  'run.failed': 'failed',
  'run.timed_out': 'timed out',
  'run.lost': 'was lost (its process stopped mid-run)',
  'job.recovered': 'recovered',
  'job.auto_paused': 'was paused after repeated failures',
  'slot.missed': 'missed a slot',
};

/** Where a reader goes next: the job and the run's log in the API (null without a base URL). */
export function alertLinks(input: AlertMessageInput, baseUrl: string | undefined) {
  const job = input.data.job;
  if (!baseUrl || !job) return {};
  const api = `${baseUrl.replace(/\/+$/, '')}/api/cron`;
  return {
    job: `${api}/jobs/${job.id}`,
    ...(input.data.run ? { run_log: `${api}/jobs/${job.id}/runs/${input.data.run.id}/log` } : {}),
  };
}

/**
 * The webhook body, in the Standard Webhooks shape: `type`, `timestamp` (when the event
 * happened) and `data` (the event, with its id for deduplication and links).
 */
export function webhookBody(input: AlertMessageInput, baseUrl: string | undefined): string {
  return JSON.stringify({
    type: input.event_type,
    timestamp: input.occurred_at.toISOString(),
    data: {
      event_id: input.event_id,
      tenant_id: input.tenant_id,
      ...input.data,
      links: alertLinks(input, baseUrl),
    },
  });
}

/** A one-line headline and a few lines of detail, for Slack and e-mail. */
export function readableAlert(input: AlertMessageInput, baseUrl: string | undefined) {
  const { job, run } = input.data;
  const tenant = input.tenant_id === null ? 'global' : `tenant ${input.tenant_id}`;
  if (input.event_type === 'alert.test' || !job) {
    return {
      headline: `Test alert from crm-cron (${tenant})`,
      lines: ['This destination receives crm-cron alerts.'],
      links: {} as Record<string, string>,
    };
  }
  const headline = `Job ${job.name} (${tenant}) ${TITLES[input.event_type] ?? input.event_type}`;
  const lines: string[] = [];
  if (run?.error) lines.push(`Error: ${run.error.slice(0, 1000)}`);
  if (run) {
    lines.push(
      `Run ${run.id}: ${run.status}, attempt ${run.attempt}` +
        (run.scheduled_for ? `, slot ${run.scheduled_for}` : ''),
    );
  }
  const { missed } = input.data;
  if (missed) {
    lines.push(
      missed.count === 1
        ? `Missed slot: ${missed.first}`
        : `Missed ${missed.count} slots: ${missed.first} to ${missed.last}`,
    );
  }
  if (input.data.consecutive_failures) {
    lines.push(`Consecutive failed slots: ${input.data.consecutive_failures}`);
  }
  lines.push(`At ${input.occurred_at.toISOString()} · event ${input.event_type}`);
  return { headline, lines, links: alertLinks(input, baseUrl) as Record<string, string> };
}

/** A Slack incoming-webhook body: mrkdwn text with the job, tenant, error and links. */
export function slackBody(input: AlertMessageInput, baseUrl: string | undefined): string {
  const { headline, lines, links } = readableAlert(input, baseUrl);
  const escape = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const linkLine = Object.entries(links)
    .map(([name, url]) => `<${url}|${name === 'run_log' ? 'Run log' : 'Job'}>`)
    .join(' · ');
  const icon = input.event_type === 'job.recovered' ? ':white_check_mark:' : ':rotating_light:';
  const text = [`${icon} *${escape(headline)}*`, ...lines.map(escape), linkLine]
    .filter(Boolean)
    .join('\n');
  return JSON.stringify({ text });
}

export function emailMessage(input: AlertMessageInput, baseUrl: string | undefined) {
  const { headline, lines, links } = readableAlert(input, baseUrl);
  return {
    subject: `[crm-cron] ${headline}`.slice(0, 100),
    text: [...lines, ...Object.entries(links).map(([name, url]) => `${name}: ${url}`)].join('\n'),
  };
}
