import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

// An alert receiver: verify the signature, drop a webhook-id already seen, answer 2xx quickly.
export function alertReceiver(secret: string, onEvent: (event: { type: string }) => void) {
  const webhook = new Webhook(secret); // the whsec_… secret shown when the destination was created
  const seen = new Set<string>();
  return createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      try {
        const event = webhook.verify(body, request.headers as Record<string, string>);
        const id = String(request.headers['webhook-id']);
        if (!seen.has(id)) onEvent(event as { type: string });
        seen.add(id);
        response.writeHead(204).end();
      } catch {
        response.writeHead(400).end(); // not signed with our secret, or too old
      }
    });
  });
}
