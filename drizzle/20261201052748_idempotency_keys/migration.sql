CREATE TABLE "idempotency_keys" (
	"principal" text,
	"key" text,
	"operation" text NOT NULL,
	"input_fingerprint" text NOT NULL,
	"result" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("principal","key")
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" ("created_at");