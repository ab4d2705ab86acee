CREATE TABLE "backup_stores" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL UNIQUE,
	"kind" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"path" text,
	"container" text,
	"sealed_credentials" text,
	"credentials_fingerprint" text,
	"credentials_updated_at" timestamp with time zone,
	"account_name" text,
	"endpoint" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD COLUMN "store_id" uuid;--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD COLUMN "copy_store_id" uuid;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "store_id" uuid;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "backup_name" text;--> statement-breakpoint
ALTER TABLE "backups" ALTER COLUMN "service_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_store_name_key" UNIQUE("store_id","backup_name");--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD CONSTRAINT "backup_schedules_store_id_backup_stores_id_fkey" FOREIGN KEY ("store_id") REFERENCES "backup_stores"("id");--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD CONSTRAINT "backup_schedules_copy_store_id_backup_stores_id_fkey" FOREIGN KEY ("copy_store_id") REFERENCES "backup_stores"("id");--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_store_id_backup_stores_id_fkey" FOREIGN KEY ("store_id") REFERENCES "backup_stores"("id");