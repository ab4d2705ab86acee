CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL UNIQUE,
	"role" text NOT NULL,
	"token_hash" text NOT NULL UNIQUE,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "service_secrets" (
	"service_id" uuid,
	"kind" text,
	"sealed" text NOT NULL,
	"fingerprint" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "service_secrets_pkey" PRIMARY KEY("service_id","kind")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL,
	"edition" text NOT NULL,
	"scale_unit_count" integer NOT NULL,
	"product_version" text NOT NULL,
	"region" text NOT NULL,
	"state" text NOT NULL,
	"acs_namespace" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "services_live_name_key" ON "services" ("name") WHERE state <> 'DELETED';--> statement-breakpoint
CREATE INDEX "services_name_idx" ON "services" ("name","deleted_at");--> statement-breakpoint
ALTER TABLE "service_secrets" ADD CONSTRAINT "service_secrets_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;