CREATE TABLE "backup_manifests" (
	"backup_id" uuid PRIMARY KEY,
	"agreements" jsonb NOT NULL,
	"has_archiving" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backup_manifests" ADD CONSTRAINT "backup_manifests_backup_id_backups_id_fkey" FOREIGN KEY ("backup_id") REFERENCES "backups"("id") ON DELETE CASCADE;