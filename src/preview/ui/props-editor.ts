import { html } from 'hono/html';
import type { PropsChoice } from '../prop-sets.js';
import type { Html } from './layout.js';

export interface PropsEditorOptions {
  /** The page's path, relative to the base. */
  path: string;
  choice: PropsChoice;
  /** The names of the template's `PreviewPropSets`. */
  sets: string[];
  /** The props the page renders with now. */
  props: unknown;
  /** The query the editor keeps when it re-renders (locale, scheme), without the props. */
  query: Record<string, string>;
  /** Who validates edited props: the view's `validate`, or nobody for a template without a view. */
  validatedBy?: string;
}

/** `?props` and `?set` left out: the switch's links pick a set, which replaces any edit. */
const withQuery = (path: string, query: Record<string, string>) => {
  const q = new URLSearchParams(query).toString();
  return q ? `${path}?${q}` : path;
};

/**
 * The props as JSON, editable: each change is validated by the view's own `validate` and
 * re-rendered (assets.ts asks `render.json` and reloads the frame). The named sets are
 * links, each its own URL.
 */
export function propsEditor(o: PropsEditorOptions): Html {
  const json = JSON.stringify(o.props ?? {}, null, 2) ?? '{}';
  const current = o.choice.kind === 'set' ? o.choice.name : o.choice.kind === 'default' ? '' : undefined;
  return html`<section id="props-panel" aria-labelledby="props-heading">
<div class="toolbar"><h2 id="props-heading">Props</h2>
<span class="switch" role="group" aria-label="Prop sets" id="prop-sets"><a href="${withQuery(o.path, o.query)}" data-set="" aria-current="${
    current === '' ? 'true' : 'false'
  }">PreviewProps</a>${o.sets.map((name) => html`<a href="${withQuery(o.path, { ...o.query, set: name })}" data-set="${name}" aria-current="${current === name ? 'true' : 'false'}">${name}</a>`)}</span>
${o.choice.kind === 'edited' ? html`<span class="badge" id="props-edited">edited</span>` : ''}
</div>
<textarea id="props-editor" spellcheck="false" autocomplete="off" rows="${Math.min(18, json.split('\n').length + 1)}" aria-label="Props as JSON" data-path="${o.path}" data-query="${new URLSearchParams(
    o.query,
  ).toString()}">${json}</textarea>
<p id="props-status" class="muted" role="status" aria-live="polite">${o.validatedBy ? `Edits are checked by ${o.validatedBy}.validate and rendered as you type.` : 'Edits are rendered as you type.'}</p>
</section>`;
}
