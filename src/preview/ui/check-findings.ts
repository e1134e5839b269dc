import { html } from 'hono/html';
import type { Problem } from '../../check/check.js';
import type { Html } from './layout.js';

/** `… (docs/checks.md#cid)` → the message and the rule's anchor. */
function split(message: string): { text: string; rule?: string } {
  const match = /^(.*) \(docs\/checks\.md#([a-z0-9-]+)\)$/s.exec(message);
  return match ? { text: match[1]!, rule: match[2]! } : { text: message };
}

/**
 * What `mailroom check` would say of this email, above it: the same findings (content.ts),
 * each naming its rule in docs/checks.md. Nothing when it passes.
 */
export function checkFindings(problems: Problem[]): Html {
  if (problems.length === 0) return html``;
  const errors = problems.filter((p) => p.severity === 'error').length;
  return html`<section class="check-findings${errors ? ' has-errors' : ''}" id="check-findings" role="status" aria-labelledby="check-heading" data-errors="${errors}" data-warnings="${problems.length - errors}">
<strong id="check-heading">mailroom check: ${errors} error${errors === 1 ? '' : 's'}, ${problems.length - errors} warning${problems.length - errors === 1 ? '' : 's'}</strong>
<ul>${problems.map((p) => {
    const { text, rule } = split(p.message);
    return html`<li class="finding finding-${p.severity}" data-rule="${rule ?? ''}"><strong>${p.severity}</strong>: ${text}${rule ? html` <span class="muted">(rule <code>docs/checks.md#${rule}</code>)</span>` : ''}</li>`;
  })}</ul>
</section>`;
}
