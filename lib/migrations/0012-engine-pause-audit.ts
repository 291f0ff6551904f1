// The engine's auto-pause (pause_after_failures) happens inside the statements that finish,
// lose or supersede a run (lib/engine/run-state.ts), so it is recorded here, by the row change
// itself: whichever of those statements pauses a job, the audit entry is written in the same
// transaction, with actor 'engine' (ENGINE_ACTOR). The WHEN clause keeps every other update of
// cron_job free of it (evaluated per row, no function call). The function runs with the updating
// user's rights: the app role may insert into cron_job_audit.
export default /* sql */ `
create function cron_job_engine_pause_audit() returns trigger language plpgsql as $$
begin
  insert into cron_job_audit (job_id, tenant_id, action, actor, changes)
  values (new.id, new.tenant_id, 'pause', new.paused_by, jsonb_build_object(
    'is_active', jsonb_build_object('before', old.is_active, 'after', new.is_active),
    'paused_reason', jsonb_build_object('before', old.paused_reason, 'after', new.paused_reason)));
  return null;
end $$;
create trigger cron_job_engine_pause_audit after update on cron_job
  for each row
  when (new.paused_by = 'engine' and old.paused_at is distinct from new.paused_at)
  execute function cron_job_engine_pause_audit();
`;
