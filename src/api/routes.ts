/** Every route the server serves. */
import type { Route } from '../http/route.js';
import { adminRegisterRoutes } from './admin/register.js';
import { accountRoutes } from './client/account.js';
import { deviceRoutes } from './client/devices.js';
import { loginRoutes } from './client/login.js';
import { profileRoutes } from './client/profile.js';
import { registerRoutes } from './client/register.js';
import { versionRoutes } from './client/versions.js';

export const allRoutes: readonly Route[] = [
  ...versionRoutes,
  ...loginRoutes,
  ...registerRoutes,
  ...accountRoutes,
  ...deviceRoutes,
  ...profileRoutes,
  ...adminRegisterRoutes,
];
