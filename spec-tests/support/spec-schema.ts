/**
 * Checks response bodies against the response schemas of the Matrix specification's OpenAPI
 * files (../shared/matrix-spec/data/api/client-server), with every `$ref` resolved.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { REPO_ROOT } from './server.js';

export const SPEC_API_DIR = resolve(REPO_ROOT, '../shared/matrix-spec/data/api');

const fileCache = new Map<string, unknown>();

function loadYaml(path: string): unknown {
  let doc = fileCache.get(path);
  if (doc === undefined) {
    doc = parse(readFileSync(path, 'utf8'));
    fileCache.set(path, doc);
  }
  return doc;
}

function pointer(doc: unknown, fragment: string): unknown {
  let node = doc;
  for (const part of fragment.replace(/^\//, '').split('/').filter(Boolean)) {
    node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

/** Inlines every `$ref` (relative files and in-document pointers) below `node`. */
function resolveRefs(node: unknown, file: string, depth = 0): unknown {
  if (depth > 40) return {};
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, file, depth + 1));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  if (typeof obj.$ref === 'string') {
    const [target, fragment = ''] = obj.$ref.split('#');
    const targetFile = target ? join(dirname(file), target) : file;
    const resolved = pointer(loadYaml(targetFile), fragment);
    const { $ref: _ignored, ...siblings } = obj;
    const inlined = resolveRefs(resolved, targetFile, depth + 1) as Record<string, unknown>;
    return Object.keys(siblings).length ? { ...inlined, ...siblings } : inlined;
  }
  return Object.fromEntries(
    Object.entries(obj).map(([k, v]) => [k, resolveRefs(v, file, depth + 1)]),
  );
}

const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
const FORMATS: Record<string, RegExp> = {
  'mx-user-id': /^@[^:]+:.+$/,
  'mx-room-id': /^![^:]+(:.+)?$/,
  'mx-event-id': /^\$.+$/,
  'mx-room-alias': /^#[^:]+:.+$/,
  'mx-server-name': /^\S+$/,
  'mx-mxc-uri': /^mxc:\/\/.+\/.+$/,
  'mx-unpadded-base64': /^[A-Za-z0-9+/]*$/,
  'mx-urlsafe-unpadded-base64': /^[A-Za-z0-9_-]*$/,
  uri: /^[a-z][a-z0-9+.-]*:/i,
  email: /^.+@.+$/,
};
for (const [name, pattern] of Object.entries(FORMATS)) ajv.addFormat(name, pattern);
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addFormat('float', { type: 'number', validate: () => true });

const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/**
 * Validates `body` against the spec's schema for one response. `file` is relative to
 * data/api (for example `client-server/login.yaml`), `path` as written in that file.
 */
export function specErrors(
  file: string,
  method: string,
  path: string,
  status: number,
  body: unknown,
): string[] {
  const key = `${file} ${method} ${path} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    const fullPath = join(SPEC_API_DIR, file);
    const doc = loadYaml(fullPath) as { paths: Record<string, Record<string, any>> };
    const operation = doc.paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`no ${method} ${path} in ${file}`);
    const response = resolveRefs(operation.responses?.[String(status)], fullPath) as any;
    const schema = response?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`no JSON schema for ${status} of ${method} ${path} in ${file}`);
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
}
