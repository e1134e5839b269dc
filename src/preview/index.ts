// `mailroom/preview`: the preview server, apart from `mailroom` so that an app that only
// queues mail never loads hono, mailparser or tsx. Needs the optional packages hono,
// @hono/node-server and mailparser (and tsx for .tsx templates).
export * from './server.js';
