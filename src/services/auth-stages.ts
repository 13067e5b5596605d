/** The user-interactive authentication stages this server offers. */
import { MatrixError, forbidden } from '../errors.js';
import type { Services } from './services.js';
import type { LoginIdentifier } from './sessions.js';
import type { AuthDict, StageChecker } from './uia.js';

/**
 * `m.login.password`: the user proves who they are with their password. When the request is
 * made with an access token (`boundUserId`), the password must be that user's. The completed
 * stage records the user id it identified.
 */
export function passwordStage(services: Services, boundUserId: string | null): StageChecker {
  return async (auth: AuthDict) => {
    const userId = services.sessions.resolveIdentifier(auth as LoginIdentifier);
    if (typeof auth.password !== 'string') {
      throw new MatrixError('M_MISSING_PARAM', 'Missing auth.password');
    }
    if (boundUserId !== null && userId !== boundUserId) {
      throw forbidden('Invalid username or password');
    }
    await services.sessions.checkPassword(userId, auth.password);
    return { userId };
  };
}

/** `m.login.registration_token`: one of the configured registration tokens. */
export function registrationTokenStage(services: Services): StageChecker {
  return async (auth: AuthDict) => {
    const token = auth.token;
    if (typeof token !== 'string' || !services.config.registration.tokens.includes(token)) {
      throw new MatrixError('M_UNAUTHORIZED', 'Invalid registration token');
    }
    return { registrationToken: true };
  };
}

/** `m.login.dummy`: no check at all; used where the flow needs no proof. */
export const dummyStage: StageChecker = async () => undefined;

/**
 * Runs user-interactive auth with the password of the requester (or of the user the password
 * stage names, when there is no requester); returns the authenticated user id.
 */
export async function authenticateWithPassword(
  services: Services,
  request: { action: string; requesterId: string | null; auth: AuthDict | undefined },
): Promise<string> {
  const result = await services.uia.authenticate({
    action: request.action,
    userId: request.requesterId,
    auth: request.auth,
    flows: [['m.login.password']],
    checkers: { 'm.login.password': passwordStage(services, request.requesterId) },
  });
  const userId = request.requesterId ?? result.userId;
  if (typeof userId !== 'string') throw forbidden('Authentication did not identify a user');
  return userId;
}
