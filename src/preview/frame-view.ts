import type { Context } from 'hono';

/** The widths offered as one click: a small phone, a common phone, an email's usual column, the page. */
export const WIDTH_PRESETS = [320, 375, 600] as const;
/** A custom width outside this range is clamped: narrower than any phone, or wider than any screen, shows nothing new. */
export const MIN_WIDTH = 200;
export const MAX_WIDTH = 2400;

/** How the viewer wants the email framed: its width (a number of CSS pixels, or the page's) and its colour scheme. */
export interface FrameView {
  width: number | 'full';
  dark: boolean;
}

/** `?width=` (320, 375, 600, any number, `full`; `mobile` is the earlier name of 375) and `?scheme=dark`. */
export function frameViewOf(c: Context): FrameView {
  return { width: parseWidth(c.req.query('width')), dark: c.req.query('scheme') === 'dark' };
}

export function parseWidth(value: string | undefined): number | 'full' {
  if (value === 'mobile') return 375;
  if (!value || !/^[0-9]{1,5}$/.test(value)) return 'full';
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Number(value)));
}

/** The query that keeps this view (only what differs from the default), to add to links. */
export function frameQuery(view: FrameView): Record<string, string> {
  return { ...(view.width === 'full' ? {} : { width: String(view.width) }), ...(view.dark ? { scheme: 'dark' } : {}) };
}
