import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configPathFromArgs, loadConfig, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('fills in the defaults for an empty configuration', () => {
    const config = parseConfig({}, {});
    expect(config.server_name).toBe('localhost');
    expect(config.listeners).toEqual([{ bind_address: '127.0.0.1', port: 8008 }]);
    expect(config.database).toEqual({ url: null, data_dir: './data', pool_size: 10 });
    expect(config.registration).toEqual({ enabled: false, tokens: [], shared_secret: null });
    expect(config.rate_limits.enabled).toBe(true);
    expect(config.http.max_request_body_bytes).toBe(1024 * 1024);
  });

  it('fills in the media defaults and refuses a malformed media key', () => {
    const media = parseConfig({}, {}).media;
    expect(media.require_auth_for_legacy).toBe(false);
    expect(media.encrypted_attachments).toBe('allow');
    expect(media.block_macro_documents).toBe(true);
    expect(media.max_archive_expanded_bytes).toBe(100 * 1024 * 1024);
    expect(media.clamd).toBeNull();
    expect(media.thumbnail_sizes).toHaveLength(5);
    expect(parseConfig({ media: { clamd: 'tcp://127.0.0.1:3310' } }, {}).media.clamd).toBe(
      'tcp://127.0.0.1:3310',
    );
    expect(() => parseConfig({ media: { clamd: 'clamd.example' } }, {})).toThrow(ConfigError);
    expect(() => parseConfig({ media: { blocked_types: ['not a type'] } }, {})).toThrow(
      ConfigError,
    );
    expect(() => parseConfig({ media: { encrypted_attachments: 'maybe' } }, {})).toThrow(
      ConfigError,
    );
  });

  it('treats an empty YAML document (null) as an empty configuration', () => {
    expect(parseConfig(null, {}).server_name).toBe('localhost');
  });

  it('fills defaults inside a partly given section and keeps the given values', () => {
    const config = parseConfig(
      { listeners: [{ port: 0 }], rate_limits: { login_per_address: { burst: 2 } } },
      {},
    );
    expect(config.listeners).toEqual([{ bind_address: '127.0.0.1', port: 0 }]);
    expect(config.rate_limits.login_per_address).toEqual({ per_second: 0.5, burst: 2 });
  });

  it('does not share default objects between two parsed configurations', () => {
    const first = parseConfig({}, {});
    first.listeners[0]!.port = 1;
    first.cors.allowed_origins.push('https://example.org');
    const second = parseConfig({}, {});
    expect(second.listeners[0]!.port).toBe(8008);
    expect(second.cors.allowed_origins).toEqual(['*']);
  });

  it('refuses an unknown top-level key and names it', () => {
    expect(() => parseConfig({ lisenters: [] }, {})).toThrow(ConfigError);
    expect(() => parseConfig({ lisenters: [] }, {})).toThrow(/unknown key 'lisenters'/);
  });

  it('names the section of an unknown nested key', () => {
    expect(() => parseConfig({ database: { dta_dir: 'x' } }, {})).toThrow(
      /unknown key 'dta_dir' under database/,
    );
  });

  it('names the path of a value of the wrong type', () => {
    expect(() => parseConfig({ listeners: [{ port: 'abc' }] }, {})).toThrow(
      /listeners\.0\.port: .*integer/,
    );
    expect(() => parseConfig({ registration: { enabled: 'yes' } }, {})).toThrow(
      /registration\.enabled: .*boolean/,
    );
  });

  it('lists the allowed values of an enum it refuses', () => {
    expect(() => parseConfig({ log: { level: 'loud' } }, {})).toThrow(/log\.level: .*"debug"/);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      parseConfig({ lisenters: [], listeners: [{ port: 'abc' }] }, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/lisenters/);
    expect(message).toMatch(/listeners\.0\.port/);
  });

  it('refuses a configuration that is not a mapping', () => {
    expect(() => parseConfig(['server_name'], {})).toThrow(ConfigError);
    expect(() => parseConfig('hs1.test', {})).toThrow(/mapping/);
  });

  it('replaces a ${NAME} value with the environment variable', () => {
    const config = parseConfig(
      { registration: { shared_secret: '${MACHI_TEST_SECRET}' }, server_name: '${HS_NAME}' },
      { MACHI_TEST_SECRET: 'a-secret-of-at-least-16', HS_NAME: 'hs1.test' },
    );
    expect(config.registration.shared_secret).toBe('a-secret-of-at-least-16');
    expect(config.server_name).toBe('hs1.test');
  });

  it('substitutes inside arrays too', () => {
    const config = parseConfig(
      { registration: { tokens: ['${TOKEN_A}', 'plain'] } },
      {
        TOKEN_A: 'tok-a',
      },
    );
    expect(config.registration.tokens).toEqual(['tok-a', 'plain']);
  });

  it('leaves a string that only contains ${...} among other text as it is', () => {
    const config = parseConfig({ media: { store_path: './media-${X}' } }, { X: '1' });
    expect(config.media.store_path).toBe('./media-${X}');
  });

  it('names the variable and the key when the environment variable is missing', () => {
    const parse = () => parseConfig({ registration: { shared_secret: '${MACHI_UNSET_VAR}' } }, {});
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/registration\.shared_secret: environment variable MACHI_UNSET_VAR/);
  });

  it('validates the substituted value', () => {
    expect(() =>
      parseConfig({ registration: { shared_secret: '${SHORT}' } }, { SHORT: 'short' }),
    ).toThrow(/registration\.shared_secret/);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machi-config-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the defaults when no path is given', () => {
    expect(loadConfig(undefined, {})).toEqual(parseConfig({}, {}));
  });

  it('reads a YAML file', () => {
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, 'server_name: hs1.test\nlisteners:\n  - port: 0\n');
    const config = loadConfig(path, {});
    expect(config.server_name).toBe('hs1.test');
    expect(config.listeners[0]!.port).toBe(0);
  });

  it('names the file when it cannot be read', () => {
    const path = join(dir, 'missing.yaml');
    expect(() => loadConfig(path, {})).toThrow(ConfigError);
    expect(() => loadConfig(path, {})).toThrow(path);
  });

  it('names the file when it is not valid YAML', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'server_name: [unclosed\n');
    expect(() => loadConfig(path, {})).toThrow(`${path} is not valid YAML`);
  });
});

describe('configPathFromArgs', () => {
  it('takes --config PATH, --config=PATH, then MACHI_CONFIG', () => {
    expect(configPathFromArgs(['--config', 'a.yaml'], {})).toBe('a.yaml');
    expect(configPathFromArgs(['--config=b.yaml'], {})).toBe('b.yaml');
    expect(configPathFromArgs([], { MACHI_CONFIG: 'c.yaml' })).toBe('c.yaml');
    expect(configPathFromArgs(['--config', 'a.yaml'], { MACHI_CONFIG: 'c.yaml' })).toBe('a.yaml');
    expect(configPathFromArgs([], {})).toBeUndefined();
  });
});
