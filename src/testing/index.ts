// `mailroom/testing`: what an app's own tests need to check its email, with no test
// framework as a dependency (failures are node:assert AssertionErrors). Needs the optional
// peers @electric-sql/pglite (the in-memory database), smtp-server and mailparser.
export { createTestMailroom, type TestMailroom, type TestMailroomOptions, type Expectation } from './test-mailroom.js';
export type { MailFilter, ViewClass } from './filter.js';
export type { QueuedMail } from './queued.js';
export type { MailContent, SentMail, MailAttachment } from './parsed-mail.js';
