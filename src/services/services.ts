/** Builds the use-case services once per process and hands them to the HTTP layer. */
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { DB } from '../storage/schema.js';
import { Accounts } from './accounts.js';
import { Devices } from './devices.js';
import { Profiles } from './profiles.js';
import { RateLimiter } from './rate-limiter.js';
import { Sessions } from './sessions.js';
import { InteractiveAuth } from './uia.js';

export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly limiter: RateLimiter;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly devices: Devices;
  readonly profiles: Profiles;
  readonly uia: InteractiveAuth;
}

export function createServices(config: Config, db: Kysely<DB>, log: Logger): Services {
  const limiter = new RateLimiter(config.rate_limits.enabled);
  return {
    config,
    log,
    limiter,
    accounts: new Accounts(db, config),
    sessions: new Sessions(db, config, limiter),
    devices: new Devices(db),
    profiles: new Profiles(db),
    uia: new InteractiveAuth(db),
  };
}
