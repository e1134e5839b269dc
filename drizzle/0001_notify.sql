-- Wakes `mailroom worker` (LISTEN mailroom_queue) when messages are queued or made due.
-- Statement-level, so a bulk insert sends one notification; NOTIFY is delivered at
-- commit, so a message queued in a rolled-back transaction never wakes anyone.
CREATE OR REPLACE FUNCTION mailroom_notify_queue() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('mailroom_queue', '');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER mailroom_messages_notify
AFTER INSERT ON mailroom_messages
FOR EACH STATEMENT EXECUTE FUNCTION mailroom_notify_queue();
