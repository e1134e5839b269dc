// `mailroom`: what an app's request path needs (views, the queue transport, enqueue, the
// tables, the drain and the errors). Nothing here loads the preview (hono, mailparser),
// PGlite, tsx or smtp-server: those are `mailroom/preview`, the embedded database (loaded
// when a `file:` URL is opened) and the CLI.
export { MailView, type RenderedMail, type SendOptions, type ViewOptions } from './views/mail-view.js';
// Localized email: intl-messageformat is loaded on the first localized render, not here.
export { defineCatalogs, type Catalogs, type CatalogsOptions } from './i18n/catalogs.js';
export type { Translator, Messages, MessageValue } from './i18n/translator.js';
export { textDirection, fallbackChain } from './i18n/locale.js';
export { createRenderPool, type RenderPool, type RenderJob } from './views/render-pool.js';
export { PRIORITY_HEADER, PRIORITIES, type Priority, parsePriority } from './views/priority.js';
export { createQueueTransport, enqueueMail, type QueueTransportOptions, type QueuedInfo, type QueueMailOptions } from './transport/queue-transport.js';
export type { ContentAccess } from './transport/content-access.js';
export { enqueueMany, enqueueMailMany, type BulkItem, type BulkOptions } from './store/bulk.js';
export { openDatabase, DEFAULT_DATABASE, type Database, type Db, type DrizzleDb } from './store/database.js';
export { migrateMailroom, MAILROOM_TABLES } from './store/migrations.js';
export { messages, attempts, blocklist, settings, MESSAGE_STATES, type MessageState, type MessageRow, type AttemptRow } from './store/schema.js';
export { drain, type DrainOptions, type DrainResult } from './drain/drain.js';
export { createSmtpTransport, parseSmtpUrl, verifySmtp } from './drain/smtp.js';
export { blockAddress, unblockAddress, listBlocked } from './store/blocklist.js';
export { defineConfig, type MailroomConfig } from './config/define.js';
export * from './errors.js';
