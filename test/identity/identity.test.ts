import { describe, expect, it } from 'vitest';
import { callerFromAuthorizer, DEFAULT_JWT_IDENTITY } from '../../lib/identity/aws-authorizer';
import { callerForToken, parseLocalTokens } from '../../lib/identity/local-tokens';
import { parseLocalConfig } from '../../lib/local/config';

describe('CRON_API_TOKENS and CRON_API_TOKEN', () => {
  it('maps each token to its subject and tenant; * is an admin, CRON_API_TOKEN too', () => {
    const tokens = parseLocalTokens(
      ' acme-token-0123456789:alice:acme , root-token-0123456789:root:* ',
      'legacy-admin-token-0123',
    );
    expect(callerForToken(tokens, 'acme-token-0123456789')).toEqual({
      subject: 'alice',
      tenant_id: 'acme',
      admin: false,
    });
    expect(callerForToken(tokens, 'root-token-0123456789')).toEqual({
      subject: 'root',
      tenant_id: null,
      admin: true,
    });
    expect(callerForToken(tokens, 'legacy-admin-token-0123')).toEqual({
      subject: 'admin',
      tenant_id: null,
      admin: true,
    });
    expect(callerForToken(tokens, 'acme-token-012345678')).toBeUndefined();
    expect(callerForToken(tokens, '')).toBeUndefined();
  });

  it('no variable set: no tokens, so the server is open', () => {
    expect(parseLocalTokens(undefined, undefined)).toEqual([]);
    expect(parseLocalConfig({}).tokens).toEqual([]);
  });

  it.each([
    ['acme-token-0123456789:alice', 'entry 1 must be token:subject:tenant'],
    ['short:alice:acme', 'entry 1: the token must be at least 16 characters'],
    ['acme-token-0123456789:al ice:acme', 'entry 1: the subject'],
    ['acme-token-0123456789:alice:ac/me', 'entry 1: the tenant'],
    [
      'acme-token-0123456789:alice:acme,acme-token-0123456789:bob:globex',
      'entry 2: the token is already used',
    ],
  ])('refuses %j at start-up, naming the entry but not its token', (value, message) => {
    expect(() => parseLocalConfig({ CRON_API_TOKENS: value })).toThrow(message);
    try {
      parseLocalConfig({ CRON_API_TOKENS: value });
    } catch (error) {
      expect((error as Error).message).not.toContain('0123456789');
    }
  });

  it('refuses a short CRON_API_TOKEN', () => {
    expect(() => parseLocalConfig({ CRON_API_TOKEN: 'short' })).toThrow(
      'CRON_API_TOKEN must be at least 16 characters',
    );
  });
});

describe('the API Gateway authorizer context', () => {
  const config = DEFAULT_JWT_IDENTITY;

  it('IAM (SigV4) callers are admins, named by their ARN', () => {
    expect(
      callerFromAuthorizer(
        { iam: { userArn: 'arn:aws:iam::123456789012:role/ops', accountId: '123456789012' } },
        config,
      ),
    ).toEqual({ subject: 'arn:aws:iam::123456789012:role/ops', tenant_id: null, admin: true });
  });

  it('a JWT with the tenant claim is a caller of that tenant', () => {
    expect(
      callerFromAuthorizer(
        { jwt: { claims: { sub: 'u1', tenant_id: 'acme' }, scopes: null } },
        config,
      ),
    ).toEqual({ subject: 'u1', tenant_id: 'acme', admin: false });
  });

  it('the admin scope makes an admin, from scopes or from the scope claim', () => {
    const admin = { subject: 'u2', tenant_id: null, admin: true };
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u2' }, scopes: ['cron:admin'] } }, config),
    ).toEqual(admin);
    expect(
      callerFromAuthorizer(
        { jwt: { claims: { sub: 'u2', scope: 'openid cron:admin', tenant_id: 'acme' } } },
        config,
      ),
    ).toEqual(admin);
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u2', scp: '[cron:admin profile]' } } }, config),
    ).toEqual(admin);
  });

  it('the claim and scope are configurable', () => {
    const custom = { tenantClaim: 'custom:org', adminScope: 'ops' };
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u3', 'custom:org': 'globex' } } }, custom),
    ).toEqual({ subject: 'u3', tenant_id: 'globex', admin: false });
    // The default claim means nothing under another configuration.
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u3', tenant_id: 'acme' } } }, custom),
    ).toBeUndefined();
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u3', scope: 'cron:admin' } } }, custom),
    ).toBeUndefined();
  });

  it('no identity, or a JWT without tenant or admin scope: none', () => {
    expect(callerFromAuthorizer(undefined, config)).toBeUndefined();
    expect(callerFromAuthorizer({}, config)).toBeUndefined();
    expect(callerFromAuthorizer({ jwt: { claims: { sub: 'u4' } } }, config)).toBeUndefined();
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u4', tenant_id: '' } } }, config),
    ).toBeUndefined();
  });
});
