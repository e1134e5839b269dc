-- The blocklist grows into a suppression list: an address (lower-cased) is suppressed for every
-- message (topic '') or for one topic's bulk messages, with a reason and where it came from.
-- IF NOT EXISTS and ON CONFLICT DO NOTHING: a database whose bookkeeping lost this row
-- (restored, hand-edited) migrates again cleanly.
CREATE TABLE IF NOT EXISTS "mailroom_suppressions" (
	"address" text NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"reason" text NOT NULL,
	"source" text DEFAULT '' NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mailroom_suppressions_address_topic_pk" PRIMARY KEY("address","topic")
);
--> statement-breakpoint
-- Every blocked address stays suppressed: for everything, reason manual, the block's reason as the note.
INSERT INTO "mailroom_suppressions" ("address", "topic", "reason", "source", "note", "created_at")
SELECT lower(trim("address")), '', 'manual', 'blocklist', "reason", "created_at" FROM "mailroom_blocklist"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Which topic a bulk message belongs to (MailView.topic); nullable without a default, so no rewrite.
ALTER TABLE "mailroom_messages" ADD COLUMN IF NOT EXISTS "topic" text;
