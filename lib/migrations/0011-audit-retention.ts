// The audit trail is append-only for the app role (lib/app-role.ts grants it select and insert
// only), yet it must age out with the run history (RUN_RETENTION_DAYS). This function, owned by
// the owner and run with the owner's rights, is the one way the app deletes audit entries: the
// oldest first, at most max_rows per call, and never one younger than a day, whatever cutoff it is
// given. The identity id grows with `at`, so walking the primary key finds the oldest at once.
export default /* sql */ `
create function cron_job_audit_prune(cutoff timestamptz, max_rows integer) returns integer
language sql security definer set search_path from current as $$
  with doomed as (
    select id from cron_job_audit
    where at < least(cutoff, now() - interval '1 day')
    order by id
    limit greatest(max_rows, 0)
  ), deleted as (
    delete from cron_job_audit a using doomed d where a.id = d.id returning 1
  )
  select count(*)::integer from deleted
$$;
revoke execute on function cron_job_audit_prune(timestamptz, integer) from public;
`;
