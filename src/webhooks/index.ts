// `mailroom/webhooks`: the bounce, complaint and unsubscribe webhooks of sending providers
// (Amazon SES through SNS, Postmark, Mailgun, Resend, SendGrid), as `(Request) => Promise<Response>` handlers that feed
// the same suppression list as `mailroom bounces`.
export type { SesOptions } from './ses.js';
export { providerWebhookHandler, type ProviderWebhookOptions, type ProviderOptions } from './handler.js';
