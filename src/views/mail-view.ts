import { createElement, type ComponentType } from 'react';
import { render as renderHtml } from '@react-email/render';
import { plainText } from './plain-text.js';
import type { SendMailOptions, Transporter, Attachment } from 'nodemailer';
import { PRIORITY_HEADER, parsePriority, type Priority } from './priority.js';
import type { MailroomMessageOptions } from './message-options.js';
import { renderErrorOf } from './render-error.js';

/** What `render()` produces: everything about the message that comes from the view. */
export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** Per-send options: recipients, anything else nodemailer accepts, and mailroom's own (message-options.ts). */
export type SendOptions = Omit<SendMailOptions, 'html' | 'text' | 'subject'> & MailroomMessageOptions;

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
export async function renderTemplate(template: ComponentType<object>, props: object): Promise<{ html: string; text: string }> {
  const html = await renderHtml(createElement(template, props));
  return { html, text: plainText(html) };
}

/**
 * A mail view: one class per kind of email. Subclasses set `template` and
 * `subject`, and may override `from`, `headers`, `attachments`, `priority` and
 * `validate`. Views only render: they know nothing of queues, and `send` hands
 * the message to whatever nodemailer transporter it is given.
 */
export abstract class MailView<Props> {
  /** A React Email component taking exactly this view's props. */
  abstract readonly template: ComponentType<Props>;
  /** The queue priority of every message of this view (`X-Mail-Queue-Priority` in `render()`'s headers). */
  priority: Priority = 'normal';
  /** Default sender; a send's own `from` wins. */
  from: SendMailOptions['from'] = undefined;

  constructor(readonly props: Props) {}

  abstract subject(props: Props): string;

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

  /** Validates the props and renders subject, HTML, text and headers (the priority among them); a failure is a RenderError. */
  async render(): Promise<RenderedMail> {
    const priority = parsePriority(this.priority);
    try {
      this.validate(this.props);
      const { html, text } = await renderTemplate(this.template as ComponentType<object>, this.props as object);
      return {
        subject: this.subject(this.props),
        html,
        text,
        headers: { ...this.headers(this.props), [PRIORITY_HEADER]: priority },
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
  async toMessage(options: SendOptions): Promise<ViewMessage> {
    const rendered = await this.render();
    const own = await this.attachments(this.props);
    const { headers, value } = takePriorityHeader({ ...rendered.headers, ...(options.headers as Record<string, unknown> | undefined) });
    return {
      from: this.from,
      ...options,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: headers as SendMailOptions['headers'],
      attachments: [...own, ...(options.attachments ?? [])],
      queuePriority: options.queuePriority ?? (value as Priority),
    };
  }

  /** Sends through any nodemailer transporter: SMTP sends now, the queue transport queues. */
  async send<Info>(transporter: Transporter<Info>, options: SendOptions): Promise<Info> {
    return transporter.sendMail(await this.toMessage(options));
  }
}
