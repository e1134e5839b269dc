import { createElement, type ComponentType } from 'react';
import { render as renderHtml } from '@react-email/render';
import { plainText } from './plain-text.js';
import type { SendMailOptions, Transporter, Attachment } from 'nodemailer';
import { PRIORITY_HEADER, parsePriority, type Priority } from './priority.js';
import type { MailroomMessageOptions } from './message-options.js';
import { renderErrorOf } from './render-error.js';
import type { Catalogs } from '../i18n/catalogs.js';
import type { Messages, Translator } from '../i18n/translator.js';
import { localize, markLanguage, withTranslator } from '../i18n/localize.js';

/** What `render()` produces: everything about the message that comes from the view. */
export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** The language the message is written in (`lang`, `Content-Language`), when the view has one. */
  locale?: string;
  /** `locale:key` of strings that fell back to another catalog: the preview warns, `mailroom check` fails. */
  missingTranslations: string[];
}

/** Per-message options given with the props: `new WelcomeMail(props, { locale: 'ca' })`. */
export interface ViewOptions {
  /** BCP 47 tag; falls back along `ca-ES` → `ca` → the catalogs' default. */
  locale?: string;
}

/** Per-send options: recipients, anything else nodemailer accepts, and mailroom's own (message-options.ts). */
export type SendOptions = Omit<SendMailOptions, 'html' | 'text' | 'subject'> & MailroomMessageOptions & ViewOptions;

/** A message as `toMessage` builds it: nodemailer's options plus mailroom's. */
export type ViewMessage = SendMailOptions & MailroomMessageOptions;

/** `headers` without the priority header (any case), and that header's value. */
function takePriorityHeader(headers: Record<string, unknown>): { headers: Record<string, unknown>; value: unknown } {
  const rest: Record<string, unknown> = {};
  let value: unknown;
  for (const [key, v] of Object.entries(headers)) {
    if (key.toLowerCase() === PRIORITY_HEADER.toLowerCase()) value = v;
    else rest[key] = v;
  }
  return { headers: rest, value };
}

/** A React Email template rendered with `props`: its HTML and its plain-text part. */
export async function renderTemplate(template: ComponentType<object>, props: object, t?: Translator): Promise<{ html: string; text: string }> {
  const html = await renderHtml(withTranslator(createElement(template, props), t));
  return { html, text: plainText(html) };
}

/**
 * A mail view: one class per kind of email. Subclasses set `template` and
 * `subject`, and may override `from`, `headers`, `attachments`, `priority` and
 * `validate`. Views only render: they know nothing of queues, and `send` hands
 * the message to whatever nodemailer transporter it is given.
 */
export abstract class MailView<Props, M extends Messages = Messages> {
  /** A React Email component taking exactly this view's props. */
  abstract readonly template: ComponentType<Props>;
  /** The queue priority of every message of this view (`X-Mail-Queue-Priority` in `render()`'s headers). */
  priority: Priority = 'normal';
  /**
   * The topic (list) of a bulk view, e.g. `newsletter`: its messages carry one-click
   * List-Unsubscribe headers (from the queue transport's `unsubscribe` options: required,
   * or `false` on purpose) and skip
   * addresses suppressed for that topic. Undefined (the default) for transactional mail,
   * which carries no such header. `BulkMail` sets it for a whole family of views.
   */
  topic: string | undefined = undefined;
  /** Default sender; a send's own `from` wins. */
  from: SendMailOptions['from'] = undefined;
  /** The message catalogs the template's `useT()` and `subject`'s `t` read (see `defineCatalogs`). */
  i18n: Catalogs<M> | undefined = undefined;

  constructor(
    readonly props: Props,
    readonly options: ViewOptions = {},
  ) {}

  /** `t` translates in the message's locale; its keys are the catalogs'. */
  abstract subject(props: Props, t: Translator<M>): string;

  /** The locale of a message when the send gives none, e.g. `props.user.locale`. */
  locale(_props: Props): string | undefined {
    return undefined;
  }

  /** Extra headers for every message of this view. */
  headers(_props: Props): Record<string, string> {
    return {};
  }

  /** Attachments every message of this view carries (e.g. an invoice PDF). */
  attachments(_props: Props): Attachment[] | Promise<Attachment[]> {
    return [];
  }

  /** Throw here to reject props the type system cannot check (e.g. an empty name). */
  validate(_props: Props): void {}

  /** The view's name as shown in errors and the preview. */
  get viewName(): string {
    return this.constructor.name;
  }

  /**
   * Validates the props and renders subject, HTML, text and headers (the priority and
   * Content-Language among them); a failure is a RenderError. `locale` overrides the
   * message's own (the preview shows each locale this way).
   */
  async render(override: ViewOptions = {}): Promise<RenderedMail> {
    const priority = parsePriority(this.priority);
    try {
      this.validate(this.props);
      const { t, locale, dir } = await localize(this.i18n as Catalogs | undefined, override.locale ?? this.options.locale ?? this.locale(this.props));
      const subject = this.subject(this.props, t as Translator<M>);
      const { html, text } = await renderTemplate(this.template as ComponentType<object>, this.props as object, this.i18n ? t : undefined);
      return {
        subject,
        html: locale && dir ? markLanguage(html, locale, dir) : html,
        text,
        headers: { ...(locale ? { 'Content-Language': locale } : {}), ...this.headers(this.props), [PRIORITY_HEADER]: priority },
        ...(locale ? { locale } : {}),
        missingTranslations: [...t.missing],
      };
    } catch (error) {
      throw renderErrorOf(this.viewName, error);
    }
  }

  /**
   * The one place a message is built: the rendered view plus this send's options. The
   * priority travels as the `queuePriority` option, not a header, so only a transport
   * that reads it (the queue) sees it; a send's own `queuePriority`, or its own priority
   * header, wins over the view's.
   */
  async toMessage(sendOptions: SendOptions): Promise<ViewMessage> {
    // A send's `locale` picks the language (over the view's own); it is the view's, not the transport's.
    const { locale, ...options } = sendOptions;
    const rendered = await this.render(locale ? { locale } : {});
    const own = await this.attachments(this.props);
    const { headers, value } = takePriorityHeader({ ...rendered.headers, ...(options.headers as Record<string, unknown> | undefined) });
    return {
      from: this.from,
      view: this.viewName,
      ...options,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: headers as SendMailOptions['headers'],
      attachments: [...own, ...(options.attachments ?? [])],
      queuePriority: options.queuePriority ?? (value as Priority),
      ...(options.queueTopic ?? this.topic ? { queueTopic: options.queueTopic ?? this.topic } : {}),
    };
  }

  /** Sends through any nodemailer transporter: SMTP sends now, the queue transport queues. */
  async send<Info>(transporter: Transporter<Info>, options: SendOptions): Promise<Info> {
    return transporter.sendMail(await this.toMessage(options));
  }
}
