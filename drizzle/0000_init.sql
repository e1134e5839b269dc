CREATE TYPE "public"."mailroom_message_state" AS ENUM('queued', 'sending', 'deferred', 'sent', 'failed');--> statement-breakpoint
CREATE TABLE "mailroom_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"smtp_code" integer,
	"reply" text DEFAULT '' NOT NULL,
	"recipients" text[] NOT NULL,
	"worker" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mailroom_blocklist" (
	"address" text PRIMARY KEY NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mailroom_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"idempotency_key" text,
	"state" "mailroom_message_state" DEFAULT 'queued' NOT NULL,
	"priority" smallint DEFAULT 2 NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"from_address" text DEFAULT '' NOT NULL,
	"envelope_from" text DEFAULT '' NOT NULL,
	"recipients" text[] NOT NULL,
	"recipient_status" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"raw" "bytea" NOT NULL,
	"size" integer NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"send_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "mailroom_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mailroom_attempts" ADD CONSTRAINT "mailroom_attempts_message_id_mailroom_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."mailroom_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mailroom_attempts_message_idx" ON "mailroom_attempts" USING btree ("message_id","id");--> statement-breakpoint
CREATE INDEX "mailroom_attempts_finished_idx" ON "mailroom_attempts" USING btree ("finished_at");--> statement-breakpoint
CREATE UNIQUE INDEX "mailroom_messages_idempotency_key_idx" ON "mailroom_messages" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "mailroom_messages_due_idx" ON "mailroom_messages" USING btree ("priority","id") WHERE state in ('queued', 'deferred', 'sending');--> statement-breakpoint
CREATE INDEX "mailroom_messages_state_idx" ON "mailroom_messages" USING btree ("state","id");