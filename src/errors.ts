/**
 * Every error mailroom raises on purpose is a MailroomError: its message names the
 * problem and the fix, so the CLI can print it as one line instead of a stack.
 */
export class MailroomError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An `X-Mail-Queue-Priority` value that is not one of now, high, normal, low. */
export class InvalidPriorityError extends MailroomError {}

/** A message that cannot be sent as written: bad address, no recipient, header injection. */
export class InvalidMessageError extends MailroomError {}

/** A template or view hook threw, or props failed the view's own validation. */
export class RenderError extends MailroomError {}

/**
 * `error` as a RenderError of `what`. One already a RenderError keeps its message, also
 * when it comes from another copy of mailroom (a worker, a freshly loaded view) and is
 * known only by name; anything else is prefixed with "`what` could not render:".
 */
export function renderErrorOf(what: string, error: unknown): RenderError {
  if (error instanceof RenderError) return error;
  const e: { name?: unknown; message?: unknown; stack?: unknown } =
    error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error) ? error : new Error(String(error));
  const message = e.name === 'RenderError' ? String(e.message) : `${what} could not render: ${String(e.message)}`;
  const wrapped = new RenderError(message, { cause: error });
  if (typeof e.stack === 'string') wrapped.stack = `${wrapped.name}: ${message}\n${e.stack.split('\n').slice(1).join('\n')}`;
  return wrapped;
}

/** The embedded database folder is open in another process. */
export class DatabaseInUseError extends MailroomError {}

/** A URL, flag or setting that cannot be used; the message says which and how to fix it. */
export class ConfigError extends MailroomError {}

/** The database could not be reached or failed mid-run. */
export class DatabaseError extends MailroomError {}

/** The SMTP server could not be reached or refused the login. */
export class SmtpConnectionError extends MailroomError {}
