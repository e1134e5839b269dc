import type { Context, Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { ConfigError } from '../../errors.js';
import { csrfTokenMatches } from '../security.js';
import { loginPage } from '../ui/login-page.js';
import { chrome, type AppContext } from '../routes/context.js';
import { checkUsers, sameSecret, verifyUser, type PreviewUser } from './password.js';
import { LoginLimiter } from './rate-limit.js';
import { Sessions } from './session.js';

/** The preview's own logins: one shared password, or named users with scrypt hashes. */
export interface PreviewAuthOptions {
  /** One shared password (no user name asked). */
  password?: string;
  /** Named users, each `{ name, hash }` with a hash from `hashPreviewPassword` (`mailroom preview --hash-password`). */
  users?: PreviewUser[];
  /** Signs the session cookies (32+ characters); default: random per start, so a restart logs everyone out. */
  secret?: string;
  /** How long a login lasts (default 12 hours). */
  sessionSeconds?: number;
  /** Failed logins allowed per client per 15 minutes (default 10). */
  maxFailures?: number;
  /** Mark the cookie Secure (HTTPS only). Default: when the request URL is https; set it when TLS ends at a proxy in front. */
  secureCookie?: boolean;
}

const COOKIE = 'mailroom_preview_session';
const SHARED_USER = 'preview';

/** The login state of a preview: who may log in, the sessions, the rate limit. */
export class Auth {
  readonly named: boolean;
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  readonly secureCookie: boolean | undefined;

  constructor(private readonly options: PreviewAuthOptions) {
    const { password, users } = options;
    if (password !== undefined && users?.length) throw new ConfigError('Give the preview either one password or users, not both.');
    if (password !== undefined && password.length < 8) throw new ConfigError('The preview password (MAILROOM_PREVIEW_PASSWORD) must be at least 8 characters.');
    if (password === undefined && !users?.length) throw new ConfigError('Preview auth needs a password or at least one user.');
    if (users) checkUsers(users);
    this.named = Boolean(users?.length);
    this.sessions = new Sessions(options.secret, options.sessionSeconds ?? 12 * 3600);
    this.limiter = new LoginLimiter(options.maxFailures ?? 10);
    this.secureCookie = options.secureCookie;
  }

  /** The user these credentials prove, or null; constant time in what it compares. */
  async verify(user: string, password: string): Promise<string | null> {
    if (this.options.password !== undefined) return sameSecret(password, this.options.password) ? SHARED_USER : null;
    return verifyUser(this.options.users ?? [], user, password);
  }

  userOf(c: Context): string | null {
    const user = this.sessions.check(getCookie(c, COOKIE));
    if (user === null) return null;
    // A user removed from the configuration (and restarted) loses its sessions.
    return this.named ? ((this.options.users ?? []).some((u) => u.name === user) ? user : null) : user === SHARED_USER ? user : null;
  }
}

/** Who is asking, for the login rate limit: the adapter's socket address unless the app says otherwise. */
export type ClientAddress = (request: Request) => string | undefined;

function clientOf(c: Context, clientAddress: ClientAddress | undefined): string {
  const fromApp = clientAddress?.(c.req.raw);
  if (fromApp) return fromApp;
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * GET/POST /login, POST /logout, and the gate in front of every other route: without a
 * valid session a page redirects to the login, anything else is 401. Only the
 * static assets are public (the login page uses them; they hold no data).
 */
export function registerAuth(app: Hono, ctx: AppContext, auth: Auth, clientAddress: ClientAddress | undefined): void {
  const cookiePath = `${ctx.base}/`;
  const secure = (c: Context) => auth.secureCookie ?? new URL(c.req.url).protocol === 'https:';
  /** A place under the preview to return to after logging in; never another site. */
  const safeNext = (next: unknown) =>
    typeof next === 'string' && next.startsWith(`${ctx.base}/`) && !next.startsWith('//') && !/[\\\s]/.test(next) && !next.includes('/login') ? next : `${ctx.base}/`;
  const page = (c: Context, next: string, error?: string, status: 200 | 401 | 429 = 200) =>
    c.html(loginPage({ chrome: { ...chrome(c, ctx), user: undefined }, named: auth.named, next, error }), status);

  app.use('*', async (c, next) => {
    const path = c.req.path.slice(ctx.base.length);
    if (path === '/login' || path.startsWith('/assets/')) return next();
    const user = auth.userOf(c);
    if (user === null) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url);
        return c.redirect(`${ctx.base}/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return c.text('Unauthorized: log in first.', 401);
    }
    c.set('user' as never, user as never);
    await next();
  });

  app.get('/login', (c) => page(c, safeNext(c.req.query('next'))));

  app.post('/login', async (c) => {
    const client = clientOf(c, clientAddress);
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    const wait = auth.limiter.retryAfter(client);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return page(c, next, `Too many failed logins: try again in ${Math.ceil(wait / 60)} minute(s).`, 429);
    }
    const user = await auth.verify(typeof form.user === 'string' ? form.user : '', typeof form.password === 'string' ? form.password : '');
    if (user === null) {
      auth.limiter.failed(client);
      return page(c, next, auth.named ? 'Wrong user name or password.' : 'Wrong password.', 401);
    }
    auth.limiter.succeeded(client);
    setCookie(c, COOKIE, auth.sessions.issue(user), {
      path: cookiePath,
      httpOnly: true,
      sameSite: 'Strict',
      secure: secure(c),
      maxAge: auth.sessions.ttlSeconds,
    });
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    const form = await c.req.parseBody();
    if (!csrfTokenMatches(ctx.csrfToken, form._csrf)) return c.text('Forbidden: this form is out of date or came from another site. Reload the page.', 403);
    deleteCookie(c, COOKIE, { path: cookiePath, secure: secure(c) });
    return c.redirect(`${ctx.base}/login`, 303);
  });
}
