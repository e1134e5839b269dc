import { RenderError } from '../errors.js';

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
