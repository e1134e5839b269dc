import type { Context } from 'hono';

/**
 * Which props a template or view page renders with:
 * - `default`: the template's `PreviewProps` (a view: the props its registration gives it);
 * - `set`: one of the template's `PreviewPropSets`, `?set=long%20name`;
 * - `edited`: JSON typed in the page's props editor, `?props={...}` (so an edit can be shared as a link).
 */
export type PropsChoice = { kind: 'default' } | { kind: 'set'; name: string } | { kind: 'edited'; props: object; json: string };

/** Edited props are carried in the URL: past this they would not fit a request line. */
export const MAX_PROPS_JSON = 8 * 1024;

/** The page's choice, or why `?props=` cannot be used (not JSON, not an object, too long). */
export function propsChoiceOf(c: Context): PropsChoice | { error: string } {
  const edited = c.req.query('props');
  if (edited !== undefined && edited !== '') return propsChoiceFrom(edited);
  const set = c.req.query('set');
  return set ? { kind: 'set', name: set } : { kind: 'default' };
}

/** Edited props given as JSON text (a query parameter or a form field). */
export function propsChoiceFrom(edited: string): PropsChoice | { error: string } {
  {
    if (edited.length > MAX_PROPS_JSON) return { error: `The props are ${edited.length.toLocaleString('en')} characters of JSON; the editor takes up to ${MAX_PROPS_JSON.toLocaleString('en')}.` };
    let props: unknown;
    try {
      props = JSON.parse(edited);
    } catch (error) {
      return { error: `The props are not valid JSON: ${(error as Error).message}` };
    }
    if (typeof props !== 'object' || props === null || Array.isArray(props)) return { error: 'The props must be a JSON object ({ … }), as a template takes them.' };
    return { kind: 'edited', props, json: JSON.stringify(props) };
  }
}

/** The query that keeps this choice in links and the frame's URL. */
export function choiceQuery(choice: PropsChoice): Record<string, string> {
  if (choice.kind === 'set') return { set: choice.name };
  if (choice.kind === 'edited') return { props: choice.json };
  return {};
}

/** A key for the render cache. */
export function choiceKey(choice: PropsChoice): string {
  return choice.kind === 'default' ? '' : choice.kind === 'set' ? `set:${choice.name}` : `props:${choice.json}`;
}
