// `haupd status`: read the running daemon's status from its unix socket.
import { connect } from 'node:net';
import { HaupError } from '../util/errors.ts';

export function queryStatus(socketPath: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let data = '';
    const sock = connect(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HaupError(`no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'is haupd running?' : err.message;
      reject(new HaupError(`cannot connect to ${socketPath}: ${why}`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data));
      } catch {
        reject(new HaupError(`${socketPath} answered something that is not JSON`));
      }
    });
  });
}
