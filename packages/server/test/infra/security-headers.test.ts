import { SecurityHeaders } from '../../src/infra/security-headers';

describe('SecurityHeaders', () => {
  const directives = [['default-src', ["'self'"]], ['script-src', ["'self'", 'https://js.example']], ['style-src', ["'self'"]], ['upgrade-insecure-requests', []]] as const;

  it('renders the CSP once, and adds a response\'s nonces to script-src and style-src', () => {
    const headers = new SecurityHeaders(directives, { hsts: true });
    expect(headers.headers['content-security-policy']).toBe("default-src 'self';script-src 'self' https://js.example;style-src 'self';upgrade-insecure-requests");
    expect(headers.withNonces({ script: 'abc', style: 'def' }))
      .toBe("default-src 'self';script-src 'self' https://js.example 'nonce-abc';style-src 'self' 'nonce-def';upgrade-insecure-requests");
    expect(headers.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(new SecurityHeaders(directives, { hsts: false }).headers['strict-transport-security']).toBeUndefined();
  });

  it("sends helmet's header set besides the CSP (the set @fastify/helmet sent before it was replaced)", () => {
    const { 'content-security-policy': _csp, ...rest } = new SecurityHeaders(directives, { hsts: true }).headers;
    expect(rest).toEqual({
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    });
  });

  it('refuses at boot a source that would start another directive, an unquoted keyword, and a CSP without default-src', () => {
    expect(() => new SecurityHeaders([['default-src', ["'self'"]], ['script-src', ["https://a.example; script-src *"]]], { hsts: false })).toThrow(/invalid source/);
    expect(() => new SecurityHeaders([['default-src', ["'self'"]], ['connect-src', ['https://a.example,https://b.example']]], { hsts: false })).toThrow(/invalid source/);
    expect(() => new SecurityHeaders([['default-src', ['self']]], { hsts: false })).toThrow(/invalid source/);
    expect(() => new SecurityHeaders([['default-src', ["'self'"]], ['script-src', ["https://a.example 'unsafe-inline'"]]], { hsts: false })).toThrow(/invalid source/);
    expect(() => new SecurityHeaders([['default-src', ["'self'"]], ['script-src', ['nonce-abc']]], { hsts: false })).toThrow(/invalid source/);
    expect(() => new SecurityHeaders([['script-src', ["'self'"]]], { hsts: false })).toThrow(/default-src/);
  });
});
