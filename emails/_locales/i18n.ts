import { defineCatalogs } from 'mailroom';
import type en from './en.json';

/**
 * The example app's catalogs: emails/_locales/<locale>.json, ICU MessageFormat, English
 * the default (the complete one; the others fall back to it key by key). `_locales`
 * because react-email's tools skip `_` folders: emails/ shows them only templates.
 */
// react-email's `email export` bundles each template to CommonJS, where import.meta.url is
// empty; it runs from the project's root, so the folder is found from there instead.
const folder = import.meta.url ? new URL('./', import.meta.url) : 'emails/_locales';

export const i18n = defineCatalogs<typeof en>({ folder, defaultLocale: 'en' });

/** In a template: `const t = useT()`, typed by en.json's keys. */
export const useT = i18n.useT;
