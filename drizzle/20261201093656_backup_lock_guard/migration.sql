-- A locked backup is protected by the database itself, not only by the service: while its lock is in
-- force (locked_until in the future) its row and its chunks cannot be deleted, nor its chunks changed or
-- the tables truncated, by any session (code that bypasses the service, or an admin at a SQL prompt).
-- A FAILED backup holds nothing to keep: its chunks are removed even when its schedule locked it.
CREATE FUNCTION backup_lock_refuse(backup_id uuid, locked_until timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'backup % is locked until %; it cannot be deleted or changed before then', backup_id, locked_until
    USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'backup_locked';
END $$;
--> statement-breakpoint
CREATE FUNCTION backup_chunks_lock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  held record;
BEGIN
  SELECT b.id, b.locked_until INTO held
    FROM backups b
   WHERE b.id IN (SELECT DISTINCT backup_id FROM gone)
     AND b.status <> 'FAILED' AND b.locked_until > now()
   LIMIT 1;
  IF FOUND THEN PERFORM backup_lock_refuse(held.id, held.locked_until); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER backup_chunks_delete_lock_guard AFTER DELETE ON backup_chunks
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION backup_chunks_lock_guard();
--> statement-breakpoint
CREATE TRIGGER backup_chunks_update_lock_guard AFTER UPDATE ON backup_chunks
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION backup_chunks_lock_guard();
--> statement-breakpoint
CREATE FUNCTION backups_lock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'FAILED' AND OLD.locked_until > now() THEN
    PERFORM backup_lock_refuse(OLD.id, OLD.locked_until);
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER backups_delete_lock_guard BEFORE DELETE ON backups
  FOR EACH ROW EXECUTE FUNCTION backups_lock_guard();
--> statement-breakpoint
CREATE FUNCTION backup_truncate_lock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  held record;
BEGIN
  SELECT id, locked_until INTO held FROM backups WHERE status <> 'FAILED' AND locked_until > now() LIMIT 1;
  IF FOUND THEN PERFORM backup_lock_refuse(held.id, held.locked_until); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER backup_chunks_truncate_lock_guard BEFORE TRUNCATE ON backup_chunks
  FOR EACH STATEMENT EXECUTE FUNCTION backup_truncate_lock_guard();
--> statement-breakpoint
CREATE TRIGGER backups_truncate_lock_guard BEFORE TRUNCATE ON backups
  FOR EACH STATEMENT EXECUTE FUNCTION backup_truncate_lock_guard();
