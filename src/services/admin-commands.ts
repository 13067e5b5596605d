/**
 * The administration commands shared by the CLI and the server's local admin socket. Each takes
 * plain arguments and returns plain data; the caller formats it.
 */
import { MatrixError } from '../errors.js';
import type { Services } from './services.js';

export type AdminCommand =
  | {
      command: 'create-user';
      localpart: string;
      password: string;
      admin: boolean;
      displayname?: string;
    }
  | { command: 'set-admin'; user: string; admin: boolean }
  | { command: 'reset-password'; user: string; password: string }
  | { command: 'deactivate'; user: string }
  | { command: 'list-users' }
  | { command: 'read-status'; roomId: string; eventId: string };

/** Runs one admin command; failures are thrown as MatrixError with a readable message. */
export async function runAdminCommand(services: Services, cmd: AdminCommand): Promise<unknown> {
  const { accounts } = services;
  switch (cmd.command) {
    case 'create-user': {
      const userId = await accounts.createAccount({
        localpart: cmd.localpart,
        password: cmd.password,
        admin: cmd.admin,
        ...(cmd.displayname !== undefined ? { displayname: cmd.displayname } : {}),
      });
      return { userId, admin: cmd.admin };
    }
    case 'set-admin': {
      const userId = accounts.resolveLocalUser(cmd.user);
      await accounts.setAdmin(userId, cmd.admin);
      return { userId, admin: cmd.admin };
    }
    case 'reset-password': {
      const userId = accounts.resolveLocalUser(cmd.user);
      await requireUser(services, userId);
      await accounts.changePassword(userId, cmd.password, true, null);
      return { userId };
    }
    case 'deactivate': {
      const userId = accounts.resolveLocalUser(cmd.user);
      await requireUser(services, userId);
      await accounts.deactivate(userId);
      return { userId };
    }
    case 'list-users':
      return accounts.list();
    case 'read-status':
      return services.receipts.readStatus('operator', cmd.roomId, cmd.eventId);
  }
}

async function requireUser(services: Services, userId: string): Promise<void> {
  if (!(await services.accounts.exists(userId))) {
    throw new MatrixError('M_NOT_FOUND', `No such user ${userId}`);
  }
}
