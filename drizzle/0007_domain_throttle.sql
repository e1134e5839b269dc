-- Per-domain throttles (drain/domain-throttle.ts): each message's recipient domain (its first recipient's,
-- generated, so existing rows get it too: the table is rewritten once), an index of messages in flight
-- per domain, one of live messages per domain, and the shared per-domain rate and back-off state.
CREATE TABLE "mailroom_domains" (
	"domain" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone,
	"backoff_until" timestamp with time zone,
	"backoff_step" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mailroom_messages" ADD COLUMN "recipient_domain" text GENERATED ALWAYS AS (lower(substring(recipients[1] from '[^@]*$'))) STORED;--> statement-breakpoint
CREATE INDEX "mailroom_messages_sending_domain_idx" ON "mailroom_messages" USING btree ("recipient_domain") WHERE state = 'sending';--> statement-breakpoint
CREATE INDEX "mailroom_messages_domain_due_idx" ON "mailroom_messages" USING btree ("recipient_domain","priority","id") WHERE state in ('queued', 'deferred', 'sending');