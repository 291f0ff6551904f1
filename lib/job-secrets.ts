import type { Sql, TransactionSql } from './db';

/**
 * Job secrets (the httpRequest executor's Standard Webhooks signing secret) live in
 * `cron_job_secret`, apart from `cron_job.metadata`: metadata is returned by the API to every
 * reader of the job, a secret is write-only. It is shown once, in the response that generated it,
 * and never returned or logged again. Deleting the job deletes its secret.
 */
export async function readJobSecret(sql: Sql, jobId: string): Promise<string | null> {
  const [row] = await sql<{ secret: string }[]>`
    select secret from cron_job_secret where job_id = ${jobId}`;
  return row?.secret ?? null;
}

export async function hasJobSecret(sql: Sql | TransactionSql, jobId: string): Promise<boolean> {
  const [row] = await sql<{ exists: boolean }[]>`
    select exists (select from cron_job_secret where job_id = ${jobId}) as exists`;
  return row!.exists;
}

export async function storeJobSecret(
  sql: Sql | TransactionSql,
  jobId: string,
  secret: string,
): Promise<void> {
  await sql`
    insert into cron_job_secret (job_id, secret) values (${jobId}, ${secret})
    on conflict (job_id) do update set secret = excluded.secret, updated_at = now()`;
}
