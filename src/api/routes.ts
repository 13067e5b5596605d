/** Every route the server serves. */
import type { Route } from '../http/route.js';
import { adminRegisterRoutes } from './admin/register.js';
import { accountRoutes } from './client/account.js';
import { accountDataRoutes } from './client/account-data.js';
import { deviceRoutes } from './client/devices.js';
import { directoryRoutes } from './client/directory.js';
import { loginRoutes } from './client/login.js';
import { membershipRoutes } from './client/membership.js';
import { profileRoutes } from './client/profile.js';
import { pushRuleRoutes } from './client/push-rules.js';
import { receiptRoutes } from './client/receipts.js';
import { registerRoutes } from './client/register.js';
import { roomEventRoutes } from './client/room-events.js';
import { roomRoutes } from './client/rooms.js';
import { legacySyncRoutes, syncRoutes } from './client/sync.js';
import { typingRoutes } from './client/typing.js';
import { versionRoutes } from './client/versions.js';
import { mediaDownloadRoutes } from './media/download.js';
import { mediaUploadRoutes } from './media/upload.js';

export const allRoutes: readonly Route[] = [
  ...versionRoutes,
  ...loginRoutes,
  ...registerRoutes,
  ...accountRoutes,
  ...deviceRoutes,
  ...directoryRoutes,
  ...profileRoutes,
  ...pushRuleRoutes,
  ...roomRoutes,
  ...membershipRoutes,
  ...roomEventRoutes,
  ...syncRoutes,
  ...legacySyncRoutes,
  ...accountDataRoutes,
  ...receiptRoutes,
  ...typingRoutes,
  ...adminRegisterRoutes,
  ...mediaUploadRoutes,
  ...mediaDownloadRoutes,
];
