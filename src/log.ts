/**
 * The root pino logger. Field names are the camelCase names used in code (`userId`, `roomId`,
 * `reqId`, ...). Secrets and message bodies must never be logged; the redaction paths below are a
 * safety net for the fields where they could slip in, not a licence to pass them.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'password',
  'accessToken',
  'access_token',
  'token',
  'sharedSecret',
  'body',
  'content',
  '*.password',
  '*.accessToken',
  '*.access_token',
  '*.token',
  '*.body',
  '*.content',
  'req.headers.authorization',
];

/** Builds the process's root logger writing JSON lines to stdout (or the given stream). */
export function createLogger(
  level: LevelWithSilent = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
