CREATE TABLE "backup_diff_items" (
	"diff_id" uuid,
	"side" integer,
	"category" text,
	"name" text,
	"digest" text NOT NULL,
	"fields" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "backup_diff_items_pkey" PRIMARY KEY("diff_id","side","category","name")
);
--> statement-breakpoint
CREATE INDEX "backup_diff_items_created_idx" ON "backup_diff_items" ("created_at");