import { defineCatalogs } from 'mailroom';
import type en from './en.json';

/**
 * The example app's catalogs: emails/_locales/<locale>.json, ICU MessageFormat, English
 * the default (the complete one; the others fall back to it key by key). `_locales`
 * because react-email's tools skip `_` folders: emails/ shows them only templates.
 */
export const i18n = defineCatalogs<typeof en>({ folder: new URL('./', import.meta.url), defaultLocale: 'en' });

/** In a template: `const t = useT()`, typed by en.json's keys. */
export const useT = i18n.useT;
