import { connect } from 'node:net';

/**
 * Sends `GET path` with exactly these header lines (no Host at all when none is
 * given) over a raw socket, as no browser or fetch() would, and resolves with the status.
 */
export function rawStatus(port: number, headerLines: string[], path = '/outbox'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      response += chunk;
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(response);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no status line, got ${JSON.stringify(response)}`)));
    socket.write(`GET ${path} HTTP/1.1\r\n${headerLines.map((l) => `${l}\r\n`).join('')}Connection: close\r\n\r\n`);
  });
}
