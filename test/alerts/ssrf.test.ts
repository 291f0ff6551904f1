import { describe, expect, it } from 'vitest';
import { createEgressClient } from '../../lib/egress/http-client';
import { errorPaths, expectProblem, startTestServer } from '../helpers/server';
import { as, TOKEN_CONFIG } from './helpers';

// The SSRF guard on destinations, through real HTTP, with no loopback override: host names are
// resolved by an injected resolver, so `internal.example.com` resolves to 10.0.0.1 here.
const resolved: Record<string, string> = {
  'internal.example.com': '10.0.0.1',
  'hooks.example.com': '93.184.216.34',
};
const egress = createEgressClient({
  resolve: async (hostname) => {
    const address = resolved[hostname];
    if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  },
});
const server = await startTestServer({ tokens: TOKEN_CONFIG, alerts: { egress } });

describe('destination URLs', () => {
  it.each([
    ['webhook', 'http://127.0.0.1/hook', /loopback/],
    ['webhook', 'http://169.254.169.254/latest/meta-data', /link-local/],
    ['webhook', 'http://[::1]/hook', /loopback/],
    ['webhook', 'https://internal.example.com/hook', /resolves to 10\.0\.0\.1, a private address/],
    ['slack', 'https://internal.example.com/services/T/B/x', /10\.0\.0\.1/],
    ['webhook', 'https://nowhere.example.com/hook', /cannot resolve/],
    ['webhook', 'http://hooks.example.com/hook', /https/],
  ])('a %s at %s is a 400 naming url, and nothing is stored', async (kind, url, reason) => {
    const before = await server.sql`select count(*)::int as n from cron_alert_destination`;
    const response = await server.request('POST', '/api/cron/alerts/destinations', {
      body: { kind, name: 'hook', url },
      headers: as('acme'),
    });
    expectProblem(response, 400, [url]);
    expect(errorPaths(response)).toEqual(['url']);
    expect(response.body.errors[0].message).toMatch(reason);
    const after = await server.sql`select count(*)::int as n from cron_alert_destination`;
    expect(after).toEqual(before);
  });

  it('a public https URL is accepted, and changing it to a private one is refused', async () => {
    const created = await server.request('POST', '/api/cron/alerts/destinations', {
      body: { kind: 'webhook', name: 'hook', url: 'https://hooks.example.com/hook' },
      headers: as('acme'),
    });
    expect(created.status, created.text).toBe(201);
    const changed = await server.request(
      'PUT',
      `/api/cron/alerts/destinations/${created.body.id}`,
      {
        body: { url: 'https://internal.example.com/hook' },
        headers: as('acme'),
      },
    );
    expectProblem(changed, 400);
    expect(errorPaths(changed)).toEqual(['url']);
  });
});
