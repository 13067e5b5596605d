/** Builds the use-case services once per process and hands them to the HTTP layer. */
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { SigningKey } from '../matrix/signing.js';
import type { DB } from '../storage/schema.js';
import { AccountData } from './account-data.js';
import { Accounts } from './accounts.js';
import { Devices } from './devices.js';
import { Directory } from './directory.js';
import { EventPipeline } from './event-pipeline.js';
import { LegacySync } from './legacy-sync.js';
import { Media } from './media.js';
import { Membership } from './membership.js';
import { Messages } from './messages.js';
import { Notifications } from './notifications.js';
import { Notifier } from './notifier.js';
import { Profiles } from './profiles.js';
import { PushRules } from './push-rules.js';
import { Receipts } from './receipts.js';
import { RateLimiter } from './rate-limiter.js';
import { RoomReader } from './room-reader.js';
import { Rooms } from './rooms.js';
import { Sessions } from './sessions.js';
import { Sync } from './sync.js';
import { Timeline } from './timeline.js';
import { Typing } from './typing.js';
import { InteractiveAuth } from './uia.js';
import { UserDirectory } from './user-directory.js';

export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly limiter: RateLimiter;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly devices: Devices;
  readonly profiles: Profiles;
  readonly uia: InteractiveAuth;
  readonly notifier: Notifier;
  readonly pipeline: EventPipeline;
  readonly accountData: AccountData;
  readonly pushRules: PushRules;
  readonly rooms: Rooms;
  readonly membership: Membership;
  readonly messages: Messages;
  readonly reader: RoomReader;
  readonly directory: Directory;
  readonly userDirectory: UserDirectory;
  readonly sync: Sync;
  readonly timeline: Timeline;
  readonly legacySync: LegacySync;
  readonly notifications: Notifications;
  readonly receipts: Receipts;
  readonly typing: Typing;
  readonly media: Media;
}

export function createServices(
  config: Config,
  db: Kysely<DB>,
  log: Logger,
  signingKey: SigningKey,
): Services {
  const limiter = new RateLimiter(config.rate_limits.enabled);
  const notifier = new Notifier(log);
  const notifications = new Notifications(db);
  const pipeline = new EventPipeline(db, config.server_name, signingKey, (trx, event) =>
    notifications.onAppend(trx, event),
  );
  const accountData = new AccountData(db);
  const pushRules = new PushRules(db, accountData);
  const reader = new RoomReader(db);
  const membership = new Membership(db, config, pipeline, reader);
  const rooms = new Rooms(db, config, pipeline, membership);
  const messages = new Messages(db, pipeline, reader);
  const receipts = new Receipts(db, reader, accountData);
  const typing = new Typing(db, reader, notifier, log);
  const sync = new Sync(
    db,
    config,
    notifier,
    reader,
    accountData,
    pushRules,
    receipts,
    notifications,
    typing,
  );
  const timeline = new Timeline(db, reader);
  return {
    config,
    log,
    limiter,
    accounts: new Accounts(db, config, membership),
    sessions: new Sessions(db, config, limiter),
    devices: new Devices(db),
    profiles: new Profiles(db, membership),
    uia: new InteractiveAuth(db),
    notifier,
    pipeline,
    accountData,
    pushRules,
    rooms,
    membership,
    messages,
    reader,
    directory: new Directory(db, config, reader),
    userDirectory: new UserDirectory(db, config),
    sync,
    timeline,
    notifications,
    receipts,
    typing,
    media: new Media(db, config, log),
    legacySync: new LegacySync(db, notifier, sync, timeline, reader, messages, accountData),
  };
}
