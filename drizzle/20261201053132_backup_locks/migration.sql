ALTER TABLE "backup_schedules" ADD COLUMN "lock_days" integer;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "lock_reason" text;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "locked_by" text;