import { defineCatalogs } from 'mailroom';
import type en from '../locales/en.json';

/**
 * The example app's catalogs: emails/locales/<locale>.json, ICU MessageFormat, English
 * the default (the complete one; the others fall back to it key by key).
 */
export const i18n = defineCatalogs<typeof en>({ folder: new URL('../locales/', import.meta.url), defaultLocale: 'en' });

/** In a template: `const t = useT()`, typed by en.json's keys. */
export const useT = i18n.useT;
