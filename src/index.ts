// `mailroom`: what an app's request path needs: mail views (and the pool that renders many),
// the queue transport, enqueue, the database handle, defineConfig and the errors. The rest is
// behind its own entry so an app that only queues mail does not load it:
//   mailroom/schema   the tables (for the app's own queries) and migrateMailroom
//   mailroom/drain    drain, SMTP and the suppression list: what `mailroom send` does, from code
//   mailroom/preview  the preview server (hono, mailparser)
// PGlite is loaded when a `file:` URL is opened, postgres.js when a `postgres://` one is.
export { BulkMail } from './views/bulk-mail.js';
export { MailView, type RenderedMail, type SendOptions, type ViewMessage, type ViewOptions } from './views/mail-view.js';
export type { MailroomMessageOptions } from './views/message-options.js';
// Localized email: intl-messageformat is loaded on the first localized render, not here.
export { defineCatalogs, type Catalogs, type CatalogsOptions } from './i18n/catalogs.js';
export type { Translator, Messages, MessageValue } from './i18n/translator.js';
export { textDirection, fallbackChain } from './i18n/locale.js';
export { createRenderPool, type RenderPool, type RenderJob } from './views/render-pool.js';
export { PRIORITY_HEADER, PRIORITIES, type Priority, parsePriority } from './views/priority.js';
export { TOPIC_HEADER } from './views/topic.js';
export { createQueueTransport, enqueueMail, enqueueMailMany, type QueueTransportOptions, type QueuedInfo, type QueueMailOptions } from './transport/queue-transport.js';
export type { UnsubscribeOptions } from './unsubscribe/headers.js';
export type { ContentAccess } from './transport/content-access.js';
export type { SmtpConfig } from './drain/smtp.js';
export { enqueueMany, type BulkItem, type BulkOptions } from './store/bulk.js';
export { openDatabase, DEFAULT_DATABASE, type Database, type Db, type DrizzleDb, type OpenOptions } from './store/database.js';
export { defineConfig, type MailroomConfig } from './config/define.js';
export * from './errors.js';
