/**
 * The Koa application: request ids and the access log, the Matrix error model, CORS, and the
 * mounting of routes declared as data.
 */
import { randomUUID } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { Router } from '@koa/router';
import { MatrixError, missingToken, unrecognized } from '../errors.js';
import type { Logger } from '../log.js';
import type { Requester } from '../services/sessions.js';
import type { Services } from '../services/services.js';
import { withQueryCount } from '../storage/query-count.js';
import { parseJsonBody, readBody } from './body.js';
import { HttpResponse, type Route } from './route.js';
import { bodyValidator, queryValidator } from './validation.js';

interface State {
  log: Logger;
  route?: string;
  requester?: Requester;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
const CORS_HEADERS = 'X-Requested-With, Content-Type, Authorization';

/** Turns any thrown value into a Matrix error response; unexpected ones are logged as bugs. */
function toMatrixError(err: unknown, log: Logger): MatrixError {
  if (err instanceof MatrixError) return err;
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new MatrixError('M_TOO_LARGE', 'Request body too large');
    return new MatrixError('M_UNKNOWN', 'Bad request', { status });
  }
  log.error({ err }, 'unexpected error while handling request');
  return new MatrixError('M_UNKNOWN', 'Internal server error');
}

/** Reads the access token from the Authorization header or the legacy query parameter. */
function accessTokenOf(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match) return match[1];
    return undefined;
  }
  const query = ctx.query.access_token;
  return typeof query === 'string' && query.length > 0 ? query : undefined;
}

function mountRoute(router: Router, services: Services, route: Route): void {
  const validateBody = route.body ? bodyValidator(route.body) : undefined;
  const validateQuery = route.query ? queryValidator(route.query) : undefined;
  const paths = Array.isArray(route.path) ? route.path : [route.path];
  const { config, sessions, limiter } = services;

  for (const path of paths) {
    const handle = async (ctx: Context) => {
      const state = ctx.state as State;
      state.route = path;
      // A user-interactive auth session belongs to one request: method and concrete path.
      const action = `${route.method} ${ctx.path.replace(/^\/_matrix\/client\/(v3|r0|v1)/, '')}`;

      let requester: Requester | undefined;
      if (route.auth !== 'none') {
        const token = accessTokenOf(ctx);
        if (token) requester = await sessions.authenticate(token, ctx.ip);
        else if (route.auth === 'accessToken') throw missingToken();
        if (requester) {
          state.requester = requester;
          state.log = state.log.child({ userId: requester.userId, deviceId: requester.deviceId });
        }
      }
      if (route.rateLimited) {
        limiter.take(
          `client:${requester?.userId ?? ctx.ip}`,
          config.rate_limits.client_requests_per_user,
        );
      }

      const query: Record<string, unknown> = { ...ctx.query };
      delete query.access_token;
      validateQuery?.(query);

      let body: unknown = {};
      if (route.method !== 'GET' && !route.rawBody) {
        body = parseJsonBody(await readBody(ctx.req, config.http.max_request_body_bytes));
        validateBody?.(body);
      }

      const aborter = new AbortController();
      ctx.res.on('close', () => {
        if (!ctx.res.writableFinished) aborter.abort();
      });
      const result = await route.handler({
        signal: aborter.signal,
        body,
        query,
        params: ctx.params as Record<string, string>,
        requester,
        services,
        log: state.log,
        ip: ctx.ip,
        baseUrl: `${ctx.protocol}://${ctx.host}`,
        action,
        headers: ctx.req.headers,
        bodyStream: route.rawBody ? ctx.req : undefined,
      });
      if (result instanceof HttpResponse) {
        ctx.status = result.status;
        ctx.set(result.headers);
        ctx.body = result.body;
      } else {
        ctx.status = 200;
        ctx.body = result;
      }
    };
    switch (route.method) {
      case 'GET':
        router.get(path, handle);
        break;
      case 'POST':
        router.post(path, handle);
        break;
      case 'PUT':
        router.put(path, handle);
        break;
      case 'DELETE':
        router.delete(path, handle);
        break;
    }
  }
}

/** Builds the Koa application serving `routes`. */
export function createApp(services: Services, routes: readonly Route[]): Koa {
  const { config, log } = services;
  const app = new Koa();
  app.proxy = config.http.trust_proxy;
  app.silent = true;

  const allowedOrigins = config.cors.allowed_origins;
  const router = new Router();
  for (const route of routes) mountRoute(router, services, route);

  // Request id, per-request logger, error model and the one access line per request.
  app.use(async (ctx, next) => {
    const started = performance.now();
    const given = ctx.get('x-request-id');
    const reqId = REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    const state = ctx.state as State;
    state.log = log.child({ reqId });
    ctx.set('X-Request-ID', reqId);
    let queries = () => 0;
    try {
      await withQueryCount((read) => {
        queries = read;
        return next();
      });
      if (ctx.status === 404 && ctx.body === undefined) {
        throw unrecognized('Unrecognized request');
      }
    } catch (err) {
      const error = toMatrixError(err, state.log);
      ctx.status = error.status;
      ctx.body = error.toJSON();
      const retryAfterMs = error.extra.retry_after_ms;
      if (typeof retryAfterMs === 'number') {
        ctx.set('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
      }
      if (error.status >= 400 && error.status < 500) {
        state.log.debug({ errcode: error.errcode }, 'request refused');
      }
    } finally {
      state.log.info(
        {
          method: ctx.method,
          route: state.route ?? null,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          queries: queries(),
        },
        'request',
      );
    }
  });

  // CORS for browser clients (spec: client-server-api, Web Browser Clients).
  app.use(async (ctx, next) => {
    const origin = ctx.get('origin');
    const allowed = allowedOrigins.includes('*')
      ? '*'
      : origin && allowedOrigins.includes(origin)
        ? origin
        : undefined;
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', allowed);
      ctx.set('Access-Control-Allow-Methods', CORS_METHODS);
      ctx.set('Access-Control-Allow-Headers', CORS_HEADERS);
      if (allowed !== '*') ctx.vary('Origin');
    }
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    await next();
  });

  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => unrecognized('Unrecognized request method', 405),
      notImplemented: () => unrecognized('Unrecognized request method', 405),
    }),
  );
  return app;
}
