// `mailroom/unsubscribe`: the one-click unsubscribe endpoint (RFC 8058) and its tokens, apart
// from `mailroom` so an app's request path loads it only where the endpoint is mounted.
export { unsubscribeHandler, type UnsubscribeHandlerOptions } from './handler.js';
export { signToken, verifyToken, type TokenClaims, type TokenProblem } from './token.js';
export { unsubscribeHeaders, type UnsubscribeOptions } from './headers.js';
