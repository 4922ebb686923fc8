import { createTestApp, type TestApp } from './test-app';

/**
 * Apple Pay's domain association file: served on every host Kassa answers on (BASE_URL's and any
 * custom shop domain pointed at it) from the operator's configuration, without a session cookie;
 * a 404 when the operator configured none.
 */
const PATH = '/.well-known/apple-developer-merchantid-domain-association';
const ASSOCIATION = '7B227073704964223A2241424344454647' + '0'.repeat(64);

describe('/.well-known/apple-developer-merchantid-domain-association', () => {
  let configured: TestApp;
  let plain: TestApp;
  beforeAll(async () => {
    configured = await createTestApp({ applePayDomainAssociation: ASSOCIATION });
    plain = await createTestApp();
  });
  afterAll(async () => {
    await configured.close();
    await plain.close();
  });

  it.each(['127.0.0.1:3000', 'tickets.example.org', 'shop.other-organizer.example'])('answers the operator\'s file on host %s, public and without a cookie', async (host) => {
    const res = await configured.app.inject({ method: 'GET', url: PATH, headers: { host } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(ASSOCIATION);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('is a 404 when the operator configured no file (Apple then keeps the domain inactive)', async () => {
    const res = await plain.app.inject({ method: 'GET', url: PATH, headers: { host: 'tickets.example.org' } });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('7B22');
  });

  it('answers HEAD like GET and refuses writes', async () => {
    expect((await configured.app.inject({ method: 'HEAD', url: PATH })).statusCode).toBe(200);
    expect((await configured.app.inject({ method: 'POST', url: PATH, payload: 'x' })).statusCode).toBe(404);
  });
});
