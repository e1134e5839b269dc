-- Per-domain throttles (drain/domain-throttle.ts): the shared per-domain rate and back-off state, and
-- indexes on each message's recipient domain (its first recipient's, lower-cased) as an expression:
-- a stored generated column would rewrite the whole table under an exclusive lock.
-- IF NOT EXISTS throughout, as in 0004 on: a database whose bookkeeping lost these rows runs them again.
CREATE TABLE IF NOT EXISTS "mailroom_domains" (
	"domain" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone,
	"backoff_until" timestamp with time zone,
	"backoff_step" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "mailroom_messages_sending_domain_idx" ON "mailroom_messages" USING btree (lower(substring("recipients"[1] from '[^@]*$'))) WHERE state = 'sending';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "mailroom_messages_domain_due_idx" ON "mailroom_messages" USING btree (lower(substring("recipients"[1] from '[^@]*$')),"priority","id") WHERE state in ('queued', 'deferred', 'sending');