CREATE TABLE "restore_drill_schedules" (
	"service_id" uuid PRIMARY KEY,
	"cron" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"next_run_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_drills" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"backup_id" uuid,
	"plan_id" uuid,
	"status" text NOT NULL,
	"differences" jsonb DEFAULT '[]' NOT NULL,
	"failure_reason" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE INDEX "restore_drills_service_idx" ON "restore_drills" ("service_id","started_at");--> statement-breakpoint
ALTER TABLE "restore_drill_schedules" ADD CONSTRAINT "restore_drill_schedules_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id");--> statement-breakpoint
ALTER TABLE "restore_drills" ADD CONSTRAINT "restore_drills_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id");--> statement-breakpoint
ALTER TABLE "restore_drills" ADD CONSTRAINT "restore_drills_backup_id_backups_id_fkey" FOREIGN KEY ("backup_id") REFERENCES "backups"("id") ON DELETE SET NULL;