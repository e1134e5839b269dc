import type * as Attempt from './attempt.js';

/**
 * `deliverClaimed`, loaded on first use. The `now` priority reaches it from the queue
 * transport, i.e. from `import 'mailroom'`; loaded up front, the delivery code (SMTP replies,
 * outcomes, the blocklist: a dozen modules) cost every app's start-up, sending `now` or not.
 */
export const deliverClaimed: typeof Attempt.deliverClaimed = async (...args) => (await import('./attempt.js')).deliverClaimed(...args);
