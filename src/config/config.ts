/**
 * The server's configuration: a YAML file validated by an ajv schema at startup. Nothing else in
 * the server reads configuration files or the environment. A string value written as `${NAME}` is
 * replaced by the environment variable NAME, so secrets can stay out of the file.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';

export interface RateLimit {
  per_second: number;
  burst: number;
}

export interface Config {
  server_name: string;
  public_baseurl: string | null;
  listeners: { bind_address: string; port: number }[];
  database: { url: string | null; data_dir: string; pool_size: number };
  registration: {
    enabled: boolean;
    tokens: string[];
    shared_secret: string | null;
  };
  media: MediaConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  rate_limits: {
    enabled: boolean;
    login_per_address: RateLimit;
    login_failures_per_account: RateLimit;
    registration_per_address: RateLimit;
    client_requests_per_user: RateLimit;
  };
  cors: { allowed_origins: string[] };
  http: { max_request_body_bytes: number; trust_proxy: boolean };
}

/** One thumbnail size generated on request and cached (spec: Thumbnails). */
export interface ThumbnailSize {
  width: number;
  height: number;
  method: 'crop' | 'scale';
}

export interface MediaConfig {
  store_path: string;
  max_upload_size: number;
  allowed_types: string[];
  blocked_types: string[];
  thumbnail_sizes: ThumbnailSize[];
  require_auth_for_legacy: boolean;
  encrypted_attachments: 'allow' | 'refuse';
  block_macro_documents: boolean;
  max_archive_expanded_bytes: number;
  clamd: string | null;
  unused_id_lifetime_ms: number;
  max_pending_uploads: number;
}

const rateLimit = (perSecond: number, burst: number, what: string) => ({
  type: 'object',
  description: what,
  additionalProperties: false,
  default: {},
  properties: {
    per_second: { type: 'number', exclusiveMinimum: 0, default: perSecond },
    burst: { type: 'integer', minimum: 1, default: burst },
  },
});

/** A media type (`image/png`) or a whole top-level type (`video/*`), as allow and block lists take. */
const mediaTypePattern = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]*/([a-z0-9][a-z0-9!#$&^_.+-]*|\\*)$',
};

/** The JSON schema of the configuration, with the defaults used when a key is absent. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server_name: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9.\\-\\[\\]:]+$',
      default: 'localhost',
    },
    public_baseurl: { type: ['string', 'null'], pattern: '^https?://', default: null },
    listeners: {
      type: 'array',
      minItems: 1,
      default: [{}],
      items: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          bind_address: { type: 'string', minLength: 1, default: '127.0.0.1' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 8008 },
        },
      },
    },
    database: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: ['string', 'null'], pattern: '^postgres(ql)?://', default: null },
        data_dir: { type: 'string', minLength: 1, default: './data' },
        pool_size: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
      },
    },
    registration: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        tokens: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
        shared_secret: { type: ['string', 'null'], minLength: 16, default: null },
      },
    },
    media: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        store_path: { type: 'string', minLength: 1, default: './media_store' },
        max_upload_size: { type: 'integer', minimum: 1, default: 50 * 1024 * 1024 },
        allowed_types: { type: 'array', items: mediaTypePattern, default: [] },
        blocked_types: { type: 'array', items: mediaTypePattern, default: [] },
        thumbnail_sizes: {
          type: 'array',
          minItems: 1,
          default: [
            { width: 32, height: 32, method: 'crop' },
            { width: 96, height: 96, method: 'crop' },
            { width: 320, height: 240, method: 'scale' },
            { width: 640, height: 480, method: 'scale' },
            { width: 800, height: 600, method: 'scale' },
          ],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['width', 'height', 'method'],
            properties: {
              width: { type: 'integer', minimum: 1, maximum: 4096 },
              height: { type: 'integer', minimum: 1, maximum: 4096 },
              method: { enum: ['crop', 'scale'] },
            },
          },
        },
        require_auth_for_legacy: { type: 'boolean', default: false },
        encrypted_attachments: { enum: ['allow', 'refuse'], default: 'allow' },
        block_macro_documents: { type: 'boolean', default: true },
        max_archive_expanded_bytes: { type: 'integer', minimum: 1, default: 100 * 1024 * 1024 },
        clamd: {
          type: ['string', 'null'],
          pattern: '^(tcp://[^:/]+:[0-9]{1,5}|/.+)$',
          default: null,
        },
        unused_id_lifetime_ms: { type: 'integer', minimum: 1000, default: 24 * 60 * 60 * 1000 },
        max_pending_uploads: { type: 'integer', minimum: 1, default: 10 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
        },
      },
    },
    rate_limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        login_per_address: rateLimit(0.5, 10, 'login attempts from one address'),
        login_failures_per_account: rateLimit(0.1, 5, 'failed logins to one account'),
        registration_per_address: rateLimit(0.2, 5, 'registrations from one address'),
        client_requests_per_user: rateLimit(20, 100, 'rate-limited requests by one user'),
      },
    },
    cors: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allowed_origins: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          default: ['*'],
        },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_request_body_bytes: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
        trust_proxy: { type: 'boolean', default: false },
      },
    },
  },
} as const;

/** A configuration the server refuses to start with; the message names the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

function describeError(error: ErrorObject): string {
  const at = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const where = at === '(top level)' ? '' : ` under ${at}`;
      return `unknown key '${key}'${where}`;
    }
    case 'enum':
      return `${at}: expected one of ${JSON.stringify(error.params.allowedValues)}`;
    default:
      return `${at}: expected a value that ${error.message ?? 'is valid'}`;
  }
}

function substituteEnv(value: unknown, path: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    if (!match) return value;
    const name = match[1] as string;
    const found = env[name];
    if (found === undefined) {
      throw new ConfigError(`${path}: environment variable ${name} is not set`);
    }
    return found;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${path}.${i}`, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, path ? `${path}.${k}` : k, env)]),
    );
  }
  return value;
}

/** Validates a parsed configuration object, filling in defaults; throws `ConfigError`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Config {
  const value = substituteEnv(raw ?? {}, '', env);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('the configuration must be a mapping of keys to values');
  }
  if (!validate(value)) {
    const messages = (validate.errors ?? []).map(describeError);
    throw new ConfigError(`invalid configuration: ${[...new Set(messages)].join('; ')}`);
  }
  return value as unknown as Config;
}

/** Reads and validates the YAML file at `path`, or returns the defaults when `path` is absent. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (!path) return parseConfig({}, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(raw, env);
}

/** The configuration path from `--config <path>`, `--config=<path>` or MACHI_CONFIG. */
export function configPathFromArgs(argv: string[], env = process.env): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.MACHI_CONFIG || undefined;
}
