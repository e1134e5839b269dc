import { MailView } from './mail-view.js';
import type { Messages } from '../i18n/translator.js';

/**
 * A mail view for bulk mail (newsletters, digests, announcements): it must name its topic,
 * so every message of it carries one-click unsubscribe headers (signed with the queue
 * transport's `unsubscribe` options; without them it is refused unless they are `false`)
 * and skips addresses that left that topic. Transactional views
 * (password resets, receipts) extend MailView and carry none.
 *
 * `class Newsletter extends BulkMail<Props> { topic = 'newsletter'; … }`
 */
export abstract class BulkMail<Props, M extends Messages = Messages> extends MailView<Props, M> {
  abstract override topic: string;
}
