import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { createApp, createLogger, createStore } from './app.js';
import { ConfigError, loadConfig } from './config.js';

// `.env` in the working directory, then at the repository root (`npm start` runs in
// ai-server/); a variable already in the environment wins over both.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
dotenv.config({ path: [resolve(process.cwd(), '.env'), resolve(repoRoot, '.env')], quiet: true });

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger(config);
let store;
try {
  // Without Redis: the embedded store on disk in DATA_DIR, locked by this process.
  store = createStore(config, logger, { onDisk: true });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const app = createApp(config, { logger, store });
const { log } = app;

process.on('unhandledRejection', (reason) => {
  log.error({ err: reason }, 'unhandled rejection');
});

try {
  await app.store.ping();
} catch {
  log.warn('the store does not answer yet; /readyz stays 503 until it does');
}

const address = await app.listen().catch((err: unknown) => {
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'cannot listen');
  process.exit(1);
});
log.info(
  { port: address.port, model: app.service.model, store: config.redisUrl || config.redisClusterNodes ? 'redis' : 'embedded', page: config.staticDir ?? null },
  `ai-server listening on http://localhost:${address.port}/chat (WebSocket ws://localhost:${address.port}/ws-chat)`,
);

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals > 1) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  log.info({ signal, graceMs: config.shutdownGraceMs }, 'draining');
  app.shutdown().then(
    () => {
      log.info('shut down');
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
