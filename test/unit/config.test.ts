import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, ENV_KEYS, loadConfig } from '../../src/shared/config';

describe('loadConfig', () => {
  test('with an empty environment, the defaults serve the local demo', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      databaseUrl: 'mysql://root@127.0.0.1:3306/pagopa_adapter',
      redisUrl: 'redis://127.0.0.1:6379',
      httpPort: 8080,
      soapPort: 8081,
      simulatorPort: 8090,
    });
  });

  test('every invalid key is named in one error', () => {
    let caught: unknown;
    try {
      loadConfig({ HTTP_PORT: 'abc', REDIS_URL: 'nope', SHUTDOWN_TIMEOUT_MS: '5000' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((p) => p.key).sort()).toEqual(['HTTP_PORT', 'REDIS_URL']);
    expect(error.message).toMatch(/HTTP_PORT/);
    expect(error.message).toMatch(/REDIS_URL/);
  });

  test('in production the connection URLs and the domains file must be given, not defaulted', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL.*REDIS_URL.*DOMAINS_FILE/,
    );
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://app:secret@db:3306/pagopa',
      REDIS_URL: 'redis://redis:6379',
      DOMAINS_FILE: '/etc/pagopa-adapter/domains.json',
    });
    expect(config.databaseUrl).toBe('mysql://app:secret@db:3306/pagopa');
  });

  test.each([
    ['DATABASE_URL', 'postgres://x@y/z'],
    ['HTTP_PORT', '70000'],
    ['DATABASE_MIGRATE_ON_START', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['QUEUE_PREFIX', 'has:colon'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
  ])('%s=%s is refused', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(key));
  });

  test('API keys are configured by name, roles and SHA-256 only', () => {
    const hash = 'a'.repeat(64);
    expect(
      loadConfig({ API_KEYS: `erp-main:erp:${hash},ops:operator+erp:${hash}` }).apiKeys,
    ).toEqual([
      { name: 'erp-main', roles: ['erp'], sha256: hash },
      { name: 'ops', roles: ['operator', 'erp'], sha256: hash },
    ]);
    expect(() => loadConfig({ API_KEYS: 'erp-main:erp:plaintext-key' })).toThrow(/API_KEYS/);
  });

  test('an empty variable counts as unset', () => {
    expect(loadConfig({ HTTP_PORT: '' }).httpPort).toBe(8080);
  });

  test('boolean flags accept the usual spellings', () => {
    expect(loadConfig({ DATABASE_MIGRATE_ON_START: 'false' }).databaseMigrateOnStart).toBe(false);
    expect(loadConfig({ DATABASE_MIGRATE_ON_START: '1' }).databaseMigrateOnStart).toBe(true);
  });
});

describe('README environment table', () => {
  test('lists exactly the keys of the config schema', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.split(/^## Configuration/m)[1]?.split(/^## /m)[0] ?? '';
    const documented = [...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...ENV_KEYS].sort());
  });
});
