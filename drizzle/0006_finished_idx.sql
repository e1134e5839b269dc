-- `mailroom purge` finds finished messages by when they finished. Without this index it
-- walked every sent message to learn there were no more old ones: 10 s for its last,
-- empty batch on a queue of 10 million. Partial, so enqueues and live messages never touch it.
CREATE INDEX IF NOT EXISTS "mailroom_messages_finished_idx" ON "mailroom_messages" USING btree ("updated_at") WHERE state in ('sent', 'failed');
