// `mailroom/drain`: sending the queue from code, as `mailroom send` does: the drain, the
// SMTP transport it sends through (and its checks) and the suppression list it honours
// (the blocklist functions are its manual, everything-scope entries).
export { drain, type DrainOptions, type DrainResult, type StopReason } from './drain.js';
export { parseDomainLimit, type DomainLimit, type DomainLimits } from './domain-limits.js';
export { createSmtpTransport, parseSmtpUrl, verifySmtp, type SmtpConfig, type SmtpOptions } from './smtp.js';
export { blockAddress, unblockAddress, listBlocked } from '../store/blocklist.js';
export { suppress, unsuppress, listSuppressions, normalizeAddress, type Suppression } from '../store/suppressions.js';
export { loadDkimKeys, signWithDkim, parseDkimSpec, type DkimKey, type DkimSpec } from './dkim.js';
export {
  createDeliveryTransport,
  createFailoverTransport,
  createRoutedTransport,
  failedAtConnect,
  type DeliveryConfig,
  type FailoverEvent,
  type FailoverOptions,
  type NamedTransport,
} from './transports.js';
