import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createRenderPool, RenderError } from 'mailroom';
import { WelcomeMail } from '../emails/_views/index.js';

const VIEWS = fileURLToPath(new URL('../emails/_views/index.ts', import.meta.url));

describe('render pool (worker threads)', () => {
  const pool = createRenderPool({ size: 2 });
  afterAll(() => pool.close());

  it('renders .tsx views in workers exactly as on the main thread, in order', async () => {
    const props = [0, 1, 2, 3, 4].map((i) => ({ name: `Núria ${i} 🎉`, loginUrl: `https://example.com/${i}` }));
    const rendered = await pool.renderAll(props.map((p) => ({ module: VIEWS, export: 'WelcomeMail', props: p })));
    for (const [i, p] of props.entries()) expect(rendered[i]).toEqual(await new WelcomeMail(p).render());
  });

  it('a view that throws, or a missing export, is a RenderError and the pool keeps working', async () => {
    await expect(pool.render({ module: VIEWS, export: 'WelcomeMail', props: { name: ' ', loginUrl: 'x' } })).rejects.toThrow(RenderError);
    await expect(pool.render({ module: VIEWS, export: 'NoSuchMail', props: {} })).rejects.toThrow(/NoSuchMail/);
    const ok = await pool.render({ module: VIEWS, export: 'WelcomeMail', props: { name: 'Ona', loginUrl: 'https://e.com' } });
    expect(ok.subject).toBe('Welcome, Ona!');
  });

  it('refuses work once closed', async () => {
    const closed = createRenderPool({ size: 1 });
    await closed.close();
    await expect(closed.render({ module: VIEWS, export: 'WelcomeMail', props: {} })).rejects.toThrow(/closed/);
  });
});
