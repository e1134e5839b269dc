export { MailView, type RenderedMail, type SendOptions } from './views/mail-view.js';
export { createRenderPool, type RenderPool, type RenderJob } from './views/render-pool.js';
export { PRIORITY_HEADER, PRIORITIES, type Priority, parsePriority } from './views/priority.js';
export { createQueueTransport, enqueueMail, type QueueTransportOptions, type QueuedInfo, type QueueMailOptions } from './transport/queue-transport.js';
export { enqueueMany, enqueueMailMany, type BulkItem, type BulkOptions } from './store/bulk.js';
export { openDatabase, DEFAULT_DATABASE, type Database, type Db } from './store/database.js';
export { messages, attempts, blocklist, settings, MESSAGE_STATES, type MessageState, type MessageRow, type AttemptRow } from './store/schema.js';
export { drain, type DrainOptions, type DrainResult } from './drain/drain.js';
export { createSmtpTransport, parseSmtpUrl, verifySmtp } from './drain/smtp.js';
export { blockAddress, unblockAddress, listBlocked } from './store/blocklist.js';
export { startPreviewServer, type PreviewServer, type PreviewServerOptions } from './preview/server.js';
export {
  MailroomError, InvalidPriorityError, InvalidMessageError, RenderError, DatabaseInUseError, ConfigError, DatabaseError, SmtpConnectionError,
} from './errors.js';
