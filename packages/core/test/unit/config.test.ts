import { isKassaError, loadConfig, parseConfig, parseInstanceSettings, decodeSecretKey, type AppConfig } from '../../src/host';

const hexKey = 'ab'.repeat(32);
const b64Key = Buffer.alloc(32, 7).toString('base64');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isKassaError(err, 'CONFIG_INVALID')) return String(err.params.detail);
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadConfig', () => {
  it('fills defaults, coerces the port, derives BASE_URL and freezes the result', () => {
    const config = loadConfig({ PORT: '8080', PATH: '/usr/bin', HOME: '/root' });
    expect(config).toEqual<AppConfig>({
      HOST: '127.0.0.1', PORT: 8080, KASSA_DATA_DIR: '.kassa-data', KASSA_SETTINGS_CACHE_MS: 1000, KASSA_ACTION_EMAIL_DELAY_SECONDS: 900, LOG_LEVEL: 'info', BASE_URL: 'http://127.0.0.1:8080',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => { (config as { PORT: number }).PORT = 1; }).toThrow(TypeError);
  });

  it('reads every known variable and strips a trailing slash from BASE_URL', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/kassa', REDIS_URL: 'redis://cache:6379', HOST: '0.0.0.0', PORT: '443',
      KASSA_DATA_DIR: '/var/lib/kassa', KASSA_SECRET_KEY: hexKey, BASE_URL: 'https://tickets.example.org/', SMTP_URL: 'smtps://mail:465',
      LOG_LEVEL: 'debug',
    });
    expect(config.BASE_URL).toBe('https://tickets.example.org');
    expect(config.DATABASE_URL).toBe('postgres://u@db:5432/kassa');
    expect(config.PORT).toBe(443);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('derives a browsable BASE_URL when listening on all interfaces', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '3000' }).BASE_URL).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '::1' }).BASE_URL).toBe('http://[::1]:3000');
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ DATABASE_URL: '', KASSA_SECRET_KEY: '' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.KASSA_SECRET_KEY).toBeUndefined();
  });

  it('rejects an unknown KASSA_ variable (a typo) by name, and ignores variables that are not Kassa\'s', () => {
    expect(refusal(() => loadConfig({ KASSA_SECRT_KEY: hexKey, NODE_ENV: 'production' }))).toBe('KASSA_SECRT_KEY is not a known configuration key');
  });

  it('points a familiar but wrong name to the right one', () => {
    expect(refusal(() => loadConfig({ KASSA_PUBLIC_URL: 'https://tickets.example.org' }))).toBe('KASSA_PUBLIC_URL is not a known configuration key (use BASE_URL)');
  });

  it('knows the database, jobs and mail settings the other packages read', () => {
    const config = loadConfig({ KASSA_DB_SCHEMA: 'kassa', KASSA_JOBS_SCHEMA: 'bullmq', KASSA_JOBS_PREFIX: 'kassa-prod', MAIL_FROM: 'Tickets <t@example.org>' });
    expect(config).toMatchObject({ KASSA_DB_SCHEMA: 'kassa', KASSA_JOBS_SCHEMA: 'bullmq', KASSA_JOBS_PREFIX: 'kassa-prod', MAIL_FROM: 'Tickets <t@example.org>' });
    expect(refusal(() => loadConfig({ KASSA_DB_SCHEMA: 'Kassa; DROP' }))).toContain('KASSA_DB_SCHEMA must match pattern');
  });

  it('reads the settings cache window in milliseconds; 0 turns the cache off', () => {
    expect(loadConfig({ KASSA_SETTINGS_CACHE_MS: '250' }).KASSA_SETTINGS_CACHE_MS).toBe(250);
    expect(loadConfig({ KASSA_SETTINGS_CACHE_MS: '0' }).KASSA_SETTINGS_CACHE_MS).toBe(0);
    expect(refusal(() => loadConfig({ KASSA_SETTINGS_CACHE_MS: '-1' }))).toContain('KASSA_SETTINGS_CACHE_MS must be >= 0');
    expect(refusal(() => loadConfig({ KASSA_SETTINGS_CACHE_MS: '1s' }))).toContain('KASSA_SETTINGS_CACHE_MS must be integer');
  });

  it('rejects unknown keys in an explicit configuration object', () => {
    expect(refusal(() => parseConfig({ PORT: 80, port: 80 }))).toContain('port is not a known configuration key');
  });

  it.each([
    ['PORT', '70000', 'PORT must be <= 65535'],
    ['PORT', 'eighty', 'PORT must be integer'],
    ['PORT', '80.5', 'PORT must be integer'],
    ['DATABASE_URL', 'mysql://db/kassa', 'DATABASE_URL must match pattern'],
    ['REDIS_URL', 'http://cache', 'REDIS_URL must match pattern'],
    ['BASE_URL', 'tickets.example.org', 'BASE_URL must match pattern'],
    ['SMTP_URL', 'mail.example.org', 'SMTP_URL must match pattern'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"'],
    ['KASSA_SECRET_KEY', 'too-short', 'KASSA_SECRET_KEY must match pattern'],
    ['KASSA_SECRET_KEY', 'ab'.repeat(31), 'KASSA_SECRET_KEY must match pattern'],
  ])('refuses %s=%s naming the key', (key, value, expected) => {
    expect(refusal(() => loadConfig({ [key]: value }))).toContain(expected);
  });

  it('names every bad key at once', () => {
    const detail = refusal(() => loadConfig({ PORT: '-1', LOG_LEVEL: 'loud', KASSA_TYPO: 'x' }));
    expect(detail).toContain('PORT must be >= 0');
    expect(detail).toContain('LOG_LEVEL must be one of');
    expect(detail).toContain('KASSA_TYPO is not a known configuration key');
  });
});

describe('decodeSecretKey', () => {
  it('accepts 32 bytes as hex, base64 and base64url', () => {
    expect(decodeSecretKey(hexKey)).toEqual(Buffer.alloc(32, 0xab));
    expect(decodeSecretKey(b64Key)).toEqual(Buffer.alloc(32, 7));
    const raw = Buffer.alloc(32, 0xfb);
    expect(decodeSecretKey(raw.toString('base64url'))).toEqual(raw);
    expect(loadConfig({ KASSA_SECRET_KEY: b64Key }).KASSA_SECRET_KEY).toBe(b64Key);
  });

  it('refuses a value that does not decode to 32 bytes', () => {
    expect(refusal(() => decodeSecretKey('abcd'))).toContain('KASSA_SECRET_KEY must be 32 bytes');
  });
});

describe('KASSA_INSTANCE_SETTINGS', () => {
  it('is read as a JSON object of namespaces, each an object of settings', () => {
    const json = JSON.stringify({ 'payment.stripe': { secretKey: 'sk_live_x', apiBase: null } });
    expect(loadConfig({ KASSA_INSTANCE_SETTINGS: json }).KASSA_INSTANCE_SETTINGS).toBe(json);
    expect(parseInstanceSettings(json)).toEqual({ 'payment.stripe': { secretKey: 'sk_live_x', apiBase: null } });
    expect(parseInstanceSettings(undefined)).toEqual({});
  });

  it.each([
    ['not JSON', '{payment.stripe', /KASSA_INSTANCE_SETTINGS is not valid JSON/],
    ['an array', '[]', /KASSA_INSTANCE_SETTINGS must be a JSON object of settings namespaces/],
    ['a namespace that is not an object', '{"payment.stripe": "sk_live_x"}', /KASSA_INSTANCE_SETTINGS\.payment\.stripe must be an object of settings/],
  ])('refuses %s at start with CONFIG_INVALID naming the key', (_label, value, message) => {
    expect(refusal(() => loadConfig({ KASSA_INSTANCE_SETTINGS: value }))).toMatch(message);
  });
});
