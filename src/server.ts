/** Starting and stopping a whole server: database, migrations, services and listeners. */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allRoutes } from './api/routes.js';
import type { Config } from './config/config.js';
import { adminSocketPath, startAdminSocket } from './http/admin-socket.js';
import { createApp } from './http/app.js';
import type { Logger } from './log.js';
import { loadSigningKey } from './services/keys.js';
import { createServices, type Services } from './services/services.js';
import { openDatabase, type Database } from './storage/database.js';
import { migrate } from './storage/migrate.js';

export interface RunningServer {
  readonly services: Services;
  readonly database: Database;
  /** Where each listener ended up (port 0 in the config becomes the port the OS chose). */
  readonly addresses: { host: string; port: number }[];
  close(): Promise<void>;
}

function listen(server: HttpServer, host: string, port: number): Promise<AddressInfo> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done(server.address() as AddressInfo);
    });
  });
}

/** Opens the database, applies migrations and starts every configured listener. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const database = await openDatabase(config.database, log);
  const servers: HttpServer[] = [];
  try {
    const applied = await migrate(database.db);
    log.info({ database: database.kind, location: database.location, applied }, 'database ready');

    const services = createServices(config, database.db, log, await loadSigningKey(database.db));
    await services.notifier.start(database);
    // An upload cut off by a crash leaves a temporary file; no upload takes a whole day.
    const swept = await services.media.store.sweepTemp(24 * 60 * 60 * 1000);
    if (swept > 0) log.info({ count: swept }, 'stale temporary uploads deleted');
    await services.typing.start(database);
    const app = createApp(services, allRoutes);
    const addresses: { host: string; port: number }[] = [];
    for (const listener of config.listeners) {
      const httpServer = createServer(app.callback());
      // Long-polling requests hold a connection open; keep idle sockets a little longer.
      httpServer.keepAliveTimeout = 65_000;
      servers.push(httpServer);
      const address = await listen(httpServer, listener.bind_address, listener.port);
      addresses.push({ host: address.address, port: address.port });
    }
    if (database.kind === 'embedded') {
      const socketPath = adminSocketPath(config.database.data_dir);
      servers.push(await startAdminSocket(socketPath, services, log));
    }

    return {
      services,
      database,
      addresses,
      close: async () => {
        await services.typing.stop();
        await services.notifier.stop();
        await Promise.all(
          servers.map(
            (s) =>
              new Promise<void>((done) => {
                s.close(() => done());
                s.closeAllConnections?.();
              }),
          ),
        );
        await database.close();
      },
    };
  } catch (err) {
    for (const s of servers) s.close();
    await database.close();
    throw err;
  }
}
