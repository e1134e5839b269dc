/**
 * Every error mailroom raises on purpose is a MailroomError (catch this one for all): its
 * message names the problem and the fix, so the CLI can print it as one line instead of a
 * stack. None carries a message's bytes, a query's parameters or a password.
 */
export class MailroomError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An `X-Mail-Queue-Priority` value (or a view's `priority`) that is not one of now, high, normal, low. */
export class InvalidPriorityError extends MailroomError {}

/**
 * A message that cannot be sent as written (bad address, no recipient, a control character in
 * a header, an oversized or unreadable attachment, content `contentAccess` does not allow, bad
 * `sendAt` or `idempotencyKey`). Thrown before anything is stored; the message names the field.
 */
export class InvalidMessageError extends MailroomError {}

/** A template or view hook threw, or props failed the view's own `validate`; nothing is stored. The cause is kept. */
export class RenderError extends MailroomError {}

/** The embedded database folder (`file:`) is open in another process: stop it, or use Postgres for several processes. */
export class DatabaseInUseError extends MailroomError {}

/** A URL, flag or setting that cannot be used; the message says which and how to fix it. */
export class ConfigError extends MailroomError {}

/**
 * The database could not be reached, refused a statement or was lost mid-run. Its message
 * gives the server's reason and SQLSTATE, never the statement's values.
 */
export class DatabaseError extends MailroomError {}

/** The SMTP server could not be reached or refused the login (`verifySmtp`, `mailroom send`). */
export class SmtpConnectionError extends MailroomError {}

/** mailroom's tables are missing from the database, or older than this version: run `mailroom migrate`. */
export class TablesMissingError extends DatabaseError {}

/**
 * Something mailroom itself guarantees did not hold: a bug in mailroom, not in the app's
 * input or setup. Not a MailroomError, so the CLI prints its stack for the report.
 */
export class InvariantError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message} (an internal invariant failed: please report this as a mailroom bug)`, options);
    this.name = 'InvariantError';
  }
}

/**
 * A message sent with `suppressed: 'refuse'` names a suppressed recipient (unsubscribed,
 * bounced, complained, blocked): nothing is stored. `suppressed` says who and why.
 */
export class SuppressedRecipientError extends MailroomError {
  constructor(
    message: string,
    readonly suppressed: { address: string; topic: string; reason: string }[],
  ) {
    super(message);
  }
}
