import { createContext, type Context } from 'react';
import type { Translator } from './translator.js';

/**
 * The translator a template's `useT()` reads while a view renders it. Kept on globalThis
 * under a registry symbol because the preview imports the app's views afresh on every
 * change: each fresh copy of mailroom must still find the one context the renderer set.
 */
const KEY = Symbol.for('mailroom.i18n.translator');
const registry = globalThis as { [KEY]?: Context<Translator | null> };
export const TranslatorContext: Context<Translator | null> = (registry[KEY] ??= createContext<Translator | null>(null));
