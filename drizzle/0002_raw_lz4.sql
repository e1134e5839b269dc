-- Stored messages compress with lz4 instead of pglz: cheaper to store at enqueue and to
-- read back at claim (bench figure 2: a send's INSERT 0.45 -> 0.37 ms). Best effort: a
-- server built without lz4 (PGlite among them) keeps its default and works the same.
DO $$
BEGIN
  ALTER TABLE "mailroom_messages" ALTER COLUMN "raw" SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'mailroom: lz4 compression not available (%), raw messages keep the default', SQLERRM;
END $$;
