/**
 * An email's HTML as a client in dark mode shows it: `prefers-color-scheme: dark` in effect.
 *
 * Chromium gives a framed document the browser's own preference whatever the frame's
 * `color-scheme`, and the frame may run no script to ask for another, so the preference
 * is emulated in the HTML itself: each `(prefers-color-scheme: dark)` media feature
 * becomes one that always holds, each `(prefers-color-scheme: light)` one that never does
 * (an unknown feature makes its media query false, as CSS specifies). An email that says
 * it supports dark (`color-scheme: light dark`, as a meta or in CSS) also gets the dark
 * canvas a browser would give it; one that does not keeps its light defaults. The
 * template's own dark rules apply, nothing is inverted.
 */
export function emulateDarkMode(html: string): string {
  const rewritten = html.replace(/\(\s*prefers-color-scheme\s*:\s*(dark|light)\s*\)/gi, (_m, scheme: string) =>
    scheme.toLowerCase() === 'dark' ? '(min-width: 0px)' : '(mailroom-light-scheme: never)',
  );
  if (!/color-scheme["']?\s*(?:content\s*=\s*["'])?[^;>"']*\bdark\b|color-scheme\s*:[^;}]*\bdark\b/i.test(html)) return rewritten;
  const declaration = '<meta name="color-scheme" content="dark"><style>:root { color-scheme: dark; }</style>';
  const head = /<head\b[^>]*>/i.exec(rewritten);
  if (head) return rewritten.slice(0, head.index + head[0].length) + declaration + rewritten.slice(head.index + head[0].length);
  return declaration + rewritten;
}
