CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL UNIQUE,
	"role" text NOT NULL,
	"token_hash" text NOT NULL UNIQUE,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"at" timestamp with time zone NOT NULL,
	"token_id" uuid,
	"token_name" text NOT NULL,
	"operation" text NOT NULL,
	"target_id" text,
	"service_id" uuid,
	"outcome" text NOT NULL
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
CREATE TABLE "agreements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"host_profile_id" uuid NOT NULL,
	"guest_profile_id" uuid NOT NULL,
	"protocol" text NOT NULL,
	"source_ftp_folder" text,
	"batching" boolean DEFAULT false NOT NULL,
	"lineage_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "agreements_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "bridges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"relative_address" text NOT NULL,
	"config" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bridges_service_name_key" UNIQUE("service_id","name"),
	CONSTRAINT "bridges_service_address_key" UNIQUE("service_id","relative_address")
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"thumbprint" text NOT NULL,
	"content" bytea NOT NULL,
	"private_key_sealed" text,
	"private_key_fingerprint" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "certificates_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "custom_assemblies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"content" bytea NOT NULL,
	"size_bytes" integer NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "custom_assemblies_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "hybrid_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "hybrid_connections_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "partners" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "partners_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "pipelines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"definition" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "pipelines_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"partner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"qualifier" text NOT NULL,
	"identifier" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "profiles_service_name_key" UNIQUE("service_id","name"),
	CONSTRAINT "profiles_service_identity_key" UNIQUE("service_id","qualifier","identifier")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"content" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "templates_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "transforms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"name" text NOT NULL,
	"map_content" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "transforms_service_name_key" UNIQUE("service_id","name")
);
--> statement-breakpoint
CREATE TABLE "x12_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"st01" text NOT NULL,
	"gs01" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "x12_mappings_service_st01_key" UNIQUE("service_id","st01")
);
--> statement-breakpoint
CREATE TABLE "backup_chunks" (
	"backup_id" uuid,
	"seq" integer,
	"data" bytea NOT NULL,
	CONSTRAINT "backup_chunks_pkey" PRIMARY KEY("backup_id","seq")
);
--> statement-breakpoint
CREATE TABLE "backup_schedules" (
	"service_id" uuid PRIMARY KEY,
	"cron" text NOT NULL,
	"keep_last" integer,
	"keep_days" integer,
	"enabled" boolean DEFAULT true NOT NULL,
	"on_active_batch_messages" text NOT NULL,
	"next_run_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	"last_outcome" text,
	"last_backup_id" uuid,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"service_name" text NOT NULL,
	"edition" text NOT NULL,
	"region" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"label" text,
	"failure_reason" text,
	"allow_batch_message_loss" boolean DEFAULT false NOT NULL,
	"format_version" integer NOT NULL,
	"size_bytes" bigint,
	"stored_bytes" bigint,
	"checksum" text,
	"item_counts" jsonb DEFAULT '[]' NOT NULL,
	"excluded" jsonb DEFAULT '[]' NOT NULL,
	"hybrid_connection_names" jsonb DEFAULT '[]' NOT NULL,
	"warnings" jsonb DEFAULT '[]' NOT NULL,
	"pinned" boolean DEFAULT false NOT NULL,
	"heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"verified_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "as2_mic_values" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"agreement_id" uuid NOT NULL,
	"message_id" text NOT NULL,
	"algorithm" text NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batch_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"agreement_id" uuid NOT NULL,
	"payload" text NOT NULL,
	"transaction_set" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control_number_high_water" (
	"lineage_id" uuid PRIMARY KEY,
	"interchange" bigint DEFAULT 0 NOT NULL,
	"group" bigint DEFAULT 0 NOT NULL,
	"transaction_set" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control_numbers" (
	"agreement_id" uuid PRIMARY KEY,
	"interchange" bigint DEFAULT 0 NOT NULL,
	"group" bigint DEFAULT 0 NOT NULL,
	"transaction_set" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "checklist_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"service_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"message" text NOT NULL,
	"agreement_id" uuid,
	"source_ftp_folder" text,
	"completed_at" timestamp with time zone,
	"position" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_events" (
	"plan_id" uuid,
	"sequence" integer,
	"state" text NOT NULL,
	"previous_state" text,
	"message" text NOT NULL,
	"progress" jsonb,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "restore_events_pkey" PRIMARY KEY("plan_id","sequence")
);
--> statement-breakpoint
CREATE TABLE "restore_plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"backup_id" uuid,
	"target_name" text NOT NULL,
	"target_edition" text NOT NULL,
	"target_region" text NOT NULL,
	"control_number_policy" text NOT NULL,
	"state" text NOT NULL,
	"checks" jsonb NOT NULL,
	"service_id" uuid,
	"failure_reason" text,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" ("at");--> statement-breakpoint
CREATE INDEX "audit_log_service_idx" ON "audit_log" ("service_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "services_live_name_key" ON "services" ("name") WHERE state <> 'DELETED';--> statement-breakpoint
CREATE INDEX "services_name_idx" ON "services" ("name","deleted_at");--> statement-breakpoint
CREATE INDEX "agreements_host_profile_idx" ON "agreements" ("host_profile_id");--> statement-breakpoint
CREATE INDEX "agreements_guest_profile_idx" ON "agreements" ("guest_profile_id");--> statement-breakpoint
CREATE INDEX "agreements_ftp_idx" ON "agreements" ("source_ftp_folder");--> statement-breakpoint
CREATE INDEX "profiles_partner_idx" ON "profiles" ("partner_id");--> statement-breakpoint
CREATE INDEX "backups_service_idx" ON "backups" ("service_id","created_at");--> statement-breakpoint
CREATE INDEX "backups_status_idx" ON "backups" ("status");--> statement-breakpoint
CREATE INDEX "as2_mic_values_agreement_idx" ON "as2_mic_values" ("agreement_id","created_at");--> statement-breakpoint
CREATE INDEX "batch_messages_agreement_idx" ON "batch_messages" ("agreement_id");--> statement-breakpoint
CREATE INDEX "checklist_items_service_idx" ON "checklist_items" ("service_id");--> statement-breakpoint
CREATE INDEX "restore_plans_state_idx" ON "restore_plans" ("state");--> statement-breakpoint
CREATE INDEX "restore_plans_service_idx" ON "restore_plans" ("service_id");--> statement-breakpoint
CREATE INDEX "restore_plans_backup_idx" ON "restore_plans" ("backup_id");--> statement-breakpoint
ALTER TABLE "service_secrets" ADD CONSTRAINT "service_secrets_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_host_profile_id_profiles_id_fkey" FOREIGN KEY ("host_profile_id") REFERENCES "profiles"("id");--> statement-breakpoint
ALTER TABLE "agreements" ADD CONSTRAINT "agreements_guest_profile_id_profiles_id_fkey" FOREIGN KEY ("guest_profile_id") REFERENCES "profiles"("id");--> statement-breakpoint
ALTER TABLE "bridges" ADD CONSTRAINT "bridges_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "custom_assemblies" ADD CONSTRAINT "custom_assemblies_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "hybrid_connections" ADD CONSTRAINT "hybrid_connections_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "partners" ADD CONSTRAINT "partners_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "pipelines" ADD CONSTRAINT "pipelines_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_partner_id_partners_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "transforms" ADD CONSTRAINT "transforms_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "x12_mappings" ADD CONSTRAINT "x12_mappings_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "backup_chunks" ADD CONSTRAINT "backup_chunks_backup_id_backups_id_fkey" FOREIGN KEY ("backup_id") REFERENCES "backups"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD CONSTRAINT "backup_schedules_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id");--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id");--> statement-breakpoint
ALTER TABLE "as2_mic_values" ADD CONSTRAINT "as2_mic_values_agreement_id_agreements_id_fkey" FOREIGN KEY ("agreement_id") REFERENCES "agreements"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "batch_messages" ADD CONSTRAINT "batch_messages_agreement_id_agreements_id_fkey" FOREIGN KEY ("agreement_id") REFERENCES "agreements"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "control_numbers" ADD CONSTRAINT "control_numbers_agreement_id_agreements_id_fkey" FOREIGN KEY ("agreement_id") REFERENCES "agreements"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "checklist_items" ADD CONSTRAINT "checklist_items_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "restore_events" ADD CONSTRAINT "restore_events_plan_id_restore_plans_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "restore_plans"("id") ON DELETE CASCADE;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_backup_id_backups_id_fkey" FOREIGN KEY ("backup_id") REFERENCES "backups"("id") ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_service_id_services_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE SET NULL;