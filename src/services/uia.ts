/**
 * User-interactive authentication (spec: client-server-api, User-Interactive Authentication
 * API). A request that needs it is answered 401 with the flows until the client has completed
 * every stage of one flow in one session; the session is then used up.
 */
import type { Kysely } from 'kysely';
import { MatrixError } from '../errors.js';
import type { DB } from '../storage/schema.js';
import {
  addCompletedStage,
  deleteExpiredUiaSessions,
  deleteUiaSession,
  getUiaSession,
  insertUiaSession,
} from '../storage/uia.js';
import { randomString } from './secrets.js';

/** How long a client has to finish a session. */
const SESSION_LIFETIME_MS = 15 * 60 * 1000;

/** The `auth` object of a request body. */
export interface AuthDict {
  type?: string;
  session?: string;
  [key: string]: unknown;
}

/** Checks one stage; returns data to keep with the session, or throws a MatrixError. */
export type StageChecker = (auth: AuthDict) => Promise<Record<string, unknown> | void>;

export interface UiaRequest {
  /** What the session authorises, such as `POST /account/password`. */
  action: string;
  /** The authenticated caller, when there is one; the session is bound to them. */
  userId: string | null;
  auth: AuthDict | undefined;
  flows: string[][];
  params?: Record<string, unknown>;
  checkers: Record<string, StageChecker>;
}

/** The 401 response that tells the client which stages remain. */
export class InteractiveAuthRequired extends MatrixError {
  constructor(
    private readonly body: Record<string, unknown>,
    failure?: MatrixError,
  ) {
    super(failure?.errcode ?? 'M_UNAUTHORIZED', failure?.message ?? 'Authentication required', {
      status: 401,
    });
    this.failed = failure !== undefined;
  }

  readonly failed: boolean;

  override toJSON(): Record<string, unknown> {
    if (!this.failed) return this.body;
    return { errcode: this.errcode, error: this.message, ...this.body };
  }
}

export class InteractiveAuth {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Runs one round of user-interactive authentication. Returns the data the completed stages
   * recorded once a flow is complete; throws `InteractiveAuthRequired` until then.
   */
  async authenticate(request: UiaRequest): Promise<Record<string, unknown>> {
    const now = Date.now();
    const { auth } = request;
    let sessionId = typeof auth?.session === 'string' ? auth.session : undefined;
    let completed: string[] = [];
    let result: Record<string, unknown> = {};

    if (sessionId !== undefined) {
      const session = await getUiaSession(this.db, sessionId);
      if (
        !session ||
        session.created_ts < now - SESSION_LIFETIME_MS ||
        session.action !== request.action ||
        session.user_id !== request.userId
      ) {
        throw new MatrixError('M_UNKNOWN', 'Unknown or expired authentication session', {
          status: 400,
        });
      }
      completed = session.completed;
      result = session.result ?? {};
    } else {
      await deleteExpiredUiaSessions(this.db, now - SESSION_LIFETIME_MS);
      sessionId = randomString();
      await insertUiaSession(this.db, {
        session_id: sessionId,
        action: request.action,
        user_id: request.userId,
        created_ts: now,
      });
    }

    const challenge = (failure?: MatrixError) =>
      new InteractiveAuthRequired(
        {
          flows: request.flows.map((stages) => ({ stages })),
          params: request.params ?? {},
          session: sessionId,
          ...(completed.length > 0 ? { completed } : {}),
        },
        failure,
      );

    if (auth?.type !== undefined) {
      const checker = request.checkers[auth.type];
      const allowed = request.flows.some((flow) => flow.includes(auth.type as string));
      if (!checker || !allowed) {
        throw challenge(new MatrixError('M_UNRECOGNIZED', `Unsupported stage ${auth.type}`));
      }
      try {
        const data = (await checker(auth)) ?? {};
        await addCompletedStage(this.db, sessionId, auth.type, data);
        completed = [...new Set([...completed, auth.type])];
        result = { ...result, ...data };
      } catch (err) {
        if (err instanceof MatrixError && err.status !== 429) throw challenge(err);
        throw err;
      }
    }

    const done = request.flows.some((flow) => flow.every((stage) => completed.includes(stage)));
    if (!done) throw challenge();
    await deleteUiaSession(this.db, sessionId);
    return result;
  }
}
