-- Which mail view built each message (MailView.viewName), for the outbox and mailroom/testing.
-- Nullable without a default: Postgres adds it without rewriting the table. IF NOT EXISTS: a
-- database whose bookkeeping lost this row (restored, hand-edited) migrates again cleanly.
ALTER TABLE "mailroom_messages" ADD COLUMN IF NOT EXISTS "view" text;