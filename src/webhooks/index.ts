// `mailroom/webhooks`: the bounce, complaint and unsubscribe webhooks of sending providers
// (Postmark, Mailgun, Resend, SendGrid), as `(Request) => Promise<Response>` handlers that feed
// the same suppression list as `mailroom bounces`.
export { providerWebhookHandler, type ProviderWebhookOptions, type ProviderOptions } from './handler.js';
