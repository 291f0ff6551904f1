import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll } from 'vitest';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered: a status, or 'hang' (never answered). */
  answered: number | 'hang';
}

/** What the receiver does with the next request: answer with a status, or never answer. */
export type Behaviour = (request: {
  headers: IncomingHttpHeaders;
  body: string;
}) => number | 'hang';

/**
 * A real HTTP receiver on loopback for alert tests: records every request, answers as
 * `behave` says, and can go down (connections refused) and come back on the same port.
 */
export async function startReceiver() {
  const received: ReceivedRequest[] = [];
  let behave: Behaviour = () => 204;
  const sockets = new Set<Socket>();
  let port = 0;
  let server: Server | undefined;

  const up = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const answer = behave({ headers: request.headers, body });
          received.push({
            path: request.url ?? '',
            headers: request.headers,
            body,
            answered: answer,
          });
          if (answer === 'hang') return;
          response.statusCode = answer;
          response.end(answer >= 400 ? 'receiver says no' : '');
        });
      });
      next.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as AddressInfo).port;
        server = next;
        resolve();
      });
    });

  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await up();
  afterAll(down);
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    /** Requests the receiver answered with a 2xx. */
    accepted: () => received.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    behave(next: Behaviour) {
      behave = next;
    },
    up,
    down,
    clear() {
      received.length = 0;
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
