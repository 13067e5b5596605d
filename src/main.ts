/** Entry point of `npm start`: loads the configuration and runs the server until signalled. */
import { ConfigError, configPathFromArgs, loadConfig } from './config/config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';
import { DataDirLockedError } from './storage/data-dir-lock.js';

async function main(): Promise<void> {
  const configPath = configPathFromArgs(process.argv.slice(2));
  let config;
  try {
    config = loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`machi: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.log.level);

  let server;
  try {
    server = await startServer(config, log);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      log.fatal({ dataDir: config.database.data_dir }, err.message);
      process.stderr.write(`machi: ${err.message}\n`);
      process.exit(3);
    }
    log.fatal({ err }, 'server failed to start');
    process.exit(1);
  }

  for (const { host, port } of server.addresses) {
    const shown = host.includes(':') ? `[${host}]` : host;
    log.info({ host, port, url: `http://${shown}:${port}` }, 'listening');
  }
  if ((await server.services.accounts.countAdmins()) === 0) {
    const configArg = configPath ? ` --config ${configPath}` : '';
    log.info(
      { command: `npm run admin --${configArg} create-user admin --admin` },
      'no admin account yet; create the first one with this command',
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
