ALTER TABLE "restore_plans" ADD COLUMN "target_service_id" uuid;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD COLUMN "on_collision" text;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD COLUMN "target_previous_state" text;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_target_service_id_services_id_fkey" FOREIGN KEY ("target_service_id") REFERENCES "services"("id") ON DELETE SET NULL;