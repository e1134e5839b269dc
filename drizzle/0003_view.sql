-- Which mail view built each message (MailView.viewName), for the outbox and mailroom/testing.
-- Nullable without a default: Postgres adds it without rewriting the table.
ALTER TABLE "mailroom_messages" ADD COLUMN "view" text;