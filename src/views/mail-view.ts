import { createElement, type ComponentType } from 'react';
import { render as renderHtml } from '@react-email/render';
import { plainText } from './plain-text.js';
import type { SendMailOptions, Transporter, Attachment } from 'nodemailer';
import { RenderError } from '../errors.js';
import { PRIORITY_HEADER, QUEUE_TRANSPORT_NAME, parsePriority, type Priority } from './priority.js';

/** What `render()` produces: everything about the message that comes from the view. */
export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** Per-send options: recipients and anything else nodemailer accepts. */
export type SendOptions = Omit<SendMailOptions, 'html' | 'text' | 'subject'> & {
  /** Same key queued twice is one message (queue transport only). */
  idempotencyKey?: string;
  /** Do not send before this time (queue transport only). */
  sendAt?: Date;
  /** The view's name, stored with the message (queue transport only); set by the view itself. */
  view?: string;
};

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
  /** `X-Mail-Queue-Priority` stamped on every message of this view. */
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
      throw new RenderError(`${this.viewName} could not render: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
  }

  /** The one place a message is built: the rendered view plus this send's options. */
  async toMessage(options: SendOptions): Promise<SendMailOptions & Pick<SendOptions, 'idempotencyKey' | 'sendAt' | 'view'>> {
    const rendered = await this.render();
    const own = await this.attachments(this.props);
    return {
      from: this.from,
      view: this.viewName,
      ...options,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: { ...rendered.headers, ...(options.headers as Record<string, string> | undefined) },
      attachments: [...own, ...(options.attachments ?? [])],
    };
  }

  /** Sends through any nodemailer transporter: SMTP sends now, the queue transport queues. */
  async send<Info>(transporter: Transporter<Info>, options: SendOptions): Promise<Info> {
    const message = await this.toMessage(options);
    if ((transporter as { transporter?: { name?: string } }).transporter?.name !== QUEUE_TRANSPORT_NAME) {
      const { [PRIORITY_HEADER]: _priority, ...headers } = message.headers as Record<string, string>;
      message.headers = headers;
    }
    return transporter.sendMail(message);
  }
}
