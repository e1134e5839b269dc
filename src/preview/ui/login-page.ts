import { html } from 'hono/html';
import { layout, type Chrome, type Html } from './layout.js';

export interface LoginPageOptions {
  chrome: Chrome;
  /** Whether there are named users (else one shared password). */
  named: boolean;
  /** Where to go after logging in (a path under the preview). */
  next: string;
  error?: string;
}

export function loginPage(o: LoginPageOptions): Html {
  const body = html`
<h1>Log in</h1>
<p class="muted">This preview shows the outbox: log in to see it.</p>
${o.error ? html`<p class="notice bad" role="alert" id="login-error">${o.error}</p>` : ''}
<form class="login" method="post" action="login">
  <input type="hidden" name="next" value="${o.next}">
  ${o.named ? html`<label>User <input name="user" autocomplete="username" required></label>` : ''}
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <button type="submit" class="primary">Log in</button>
</form>`;
  return layout({ chrome: o.chrome, title: 'Log in', body });
}
