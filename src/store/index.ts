// `mailroom/schema`: mailroom's Drizzle tables, for an app's own queries on its outbox
// (`db.select().from(messages)`), and the migration that creates them.
export {
  messages, attempts, blocklist, settings, MESSAGE_STATES, type MessageState, type MessageRow, type AttemptRow, type RecipientStatus,
} from './schema.js';
export { migrateMailroom, MAILROOM_TABLES } from './migrations.js';
