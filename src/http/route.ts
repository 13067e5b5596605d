/**
 * Routes as data: each endpoint declares its method, paths, authentication, the ajv schemas of
 * its body and query, and a handler that receives validated input. `mountRoutes` wires them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { Requester } from '../services/sessions.js';
import type { Services } from '../services/services.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** `none`: public; `accessToken`: required; `optionalAccessToken`: used when given. */
export type AuthKind = 'none' | 'accessToken' | 'optionalAccessToken';

/** A JSON schema object as ajv takes it. */
export type Schema = Record<string, unknown>;

export interface HandlerInput<Body, Query, Auth extends AuthKind> {
  body: Body;
  query: Query;
  params: Record<string, string>;
  requester: Auth extends 'accessToken' ? Requester : Requester | undefined;
  services: Services;
  log: Logger;
  ip: string;
  /** The scheme and host the client used to reach us, such as `http://127.0.0.1:8008`. */
  baseUrl: string;
  /** Aborted when the client goes away before the response is sent (ends long polls). */
  signal: AbortSignal;
  /** `METHOD template`, used to bind user-interactive auth sessions to one kind of request. */
  action: string;
  /** The request headers, lower-cased as Node gives them (for Range, Content-Type and such). */
  headers: IncomingHttpHeaders;
  /**
   * The unread request body, for routes declared with `rawBody: true` (media uploads); undefined
   * for every other route, whose JSON body was already parsed into `body`.
   */
  bodyStream: Readable | undefined;
}

/** A response other than a plain 200 with a JSON body; `body` may be a Buffer or a stream. */
export class HttpResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface Route<Body = any, Query = any, Auth extends AuthKind = AuthKind> {
  method: Method;
  /** One path or several (for example the v3 and r0 forms), in @koa/router syntax. */
  path: string | string[];
  auth: Auth;
  body?: Schema;
  query?: Schema;
  /** Whether the per-user request limit applies. */
  rateLimited?: boolean;
  /**
   * The handler reads the request body itself from `bodyStream` (uploads of any type and size):
   * the mounter neither parses it as JSON nor applies `http.max_request_body_bytes`.
   */
  rawBody?: boolean;
  handler: (input: HandlerInput<Body, Query, Auth>) => Promise<unknown>;
}

/** Declares a route; the generic parameters type the handler's validated input. */
export function route<Body = Record<string, never>, Query = Record<string, never>>() {
  return <Auth extends AuthKind>(definition: Route<Body, Query, Auth>): Route =>
    definition as unknown as Route;
}

/** The v3 path of a Client-Server endpoint and its r0 alias, which older clients use. */
export function clientPaths(path: string): string[] {
  return [`/_matrix/client/v3${path}`, `/_matrix/client/r0${path}`];
}

/** A Client-Server endpoint that exists under v1 only. */
export function clientV1Path(path: string): string[] {
  return [`/_matrix/client/v1${path}`];
}
