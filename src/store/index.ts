// `mailroom/schema`: mailroom's Drizzle tables, for an app's own queries on its outbox
// (`db.select().from(messages)`), and the migration that creates them.
export {
  messages, attempts, blocklist, suppressions, bounces, settings, domains, MESSAGE_STATES, SUPPRESSION_REASONS, type SuppressionReason, type SuppressionRow, type BounceRow, type BounceKind, type MessageState, type MessageRow, type AttemptRow, type RecipientStatus,
} from './schema.js';
export { migrateMailroom, MAILROOM_TABLES } from './migrations.js';
