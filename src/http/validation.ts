/**
 * ajv validators for request bodies and query strings. Query values arrive as strings (or arrays
 * when repeated) and are coerced to the schema's types.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MatrixError } from '../errors.js';
import type { Schema } from './route.js';

const bodyAjv = new Ajv({ allErrors: false, strict: false });
const queryAjv = new Ajv({ allErrors: false, strict: false, coerceTypes: 'array' });

function describe(error: ErrorObject, where: string): string {
  const at = error.instancePath ? `${where}${error.instancePath.replaceAll('/', '.')}` : where;
  if (error.keyword === 'required') {
    return `Missing parameter: ${(error.params as { missingProperty: string }).missingProperty}`;
  }
  if (error.keyword === 'enum') {
    return `${at} must be one of ${JSON.stringify(error.params.allowedValues)}`;
  }
  return `${at} ${error.message ?? 'is invalid'}`;
}

export type Validator = (value: unknown) => void;

function makeValidator(fn: ValidateFunction, where: 'body' | 'query'): Validator {
  return (value) => {
    if (fn(value)) return;
    const error = fn.errors?.[0];
    if (!error) throw new MatrixError('M_BAD_JSON', `Invalid ${where}`);
    const message = describe(error, where === 'body' ? 'body' : 'query');
    if (error.keyword === 'required') throw new MatrixError('M_MISSING_PARAM', message);
    throw new MatrixError(where === 'body' ? 'M_BAD_JSON' : 'M_INVALID_PARAM', message);
  };
}

/** A validator that throws M_MISSING_PARAM or M_BAD_JSON for a body not matching `schema`. */
export function bodyValidator(schema: Schema): Validator {
  return makeValidator(bodyAjv.compile(schema), 'body');
}

/** A validator that coerces and checks a query object, throwing M_INVALID_PARAM. */
export function queryValidator(schema: Schema): Validator {
  return makeValidator(queryAjv.compile(schema), 'query');
}

/**
 * Reads a query parameter that carries JSON (a filter, say) and checks it against a schema;
 * anything wrong is a 400 M_INVALID_PARAM naming the parameter.
 */
export function jsonQueryParam<T>(raw: string, name: string, validate: Validator): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MatrixError('M_INVALID_PARAM', `${name} is not valid JSON`);
  }
  try {
    validate(value);
  } catch (err) {
    throw new MatrixError('M_INVALID_PARAM', `Invalid ${name}: ${(err as Error).message}`);
  }
  return value as T;
}
