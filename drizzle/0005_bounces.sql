-- Bounces and complaints read by `mailroom bounces`: one row per address per report (report_id is
-- the report's own Message-ID, so reading a mailbox twice counts nothing twice); soft bounces are
-- counted per address, and `mailroom status` reads rates over created_at.
-- The message reference is set null when a message is purged: the bounce still counts.
CREATE TABLE IF NOT EXISTS "mailroom_bounces" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" bigint CONSTRAINT "mailroom_bounces_message_id_mailroom_messages_id_fk" REFERENCES "mailroom_messages"("id") ON DELETE set null,
	"address" text NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT '' NOT NULL,
	"diagnostic" text DEFAULT '' NOT NULL,
	"report_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "mailroom_bounces_report_idx" ON "mailroom_bounces" USING btree ("report_id","address","kind");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "mailroom_bounces_address_idx" ON "mailroom_bounces" USING btree ("address","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "mailroom_bounces_created_idx" ON "mailroom_bounces" USING btree ("created_at");
