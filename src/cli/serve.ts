// `provgate serve`: load the configuration, start the gate, stop gracefully on
// SIGTERM/SIGINT (stop accepting, finish in-flight requests, exit).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/index.ts';
import { createLogger, startServer } from '../http/server.ts';
import { UsageError, type CommandResult, type Io } from './io.ts';

export const SERVE_USAGE = `usage: provgate serve [--config FILE] [--port N] [--host H]

Starts the gate: POST /v1/admit, /v1/upload, /v1/k8s/validate; GET /healthz,
/readyz, /metrics, /openapi.json. Without --config: 127.0.0.1:8080 over HTTP,
the embedded Sigstore public-good trust root and the default policy bundle.`;

export async function serveCommand(argv: string[], io: Io): Promise<CommandResult> {
  let values: { config?: string; port?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${SERVE_USAGE}`);
  }
  if (values.help === true) throw new UsageError(SERVE_USAGE, 0);
  let config: Config;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be 0-65535\n${SERVE_USAGE}`);
    config.server.port = port;
  }
  if (values.host !== undefined) config.server.host = values.host;

  const logger = createLogger(config.logging.level);
  let server;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    io.stderr(`provgate: cannot start: ${(err as Error).message}`);
    return 2;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(
        `${signal}: stopping; in-flight requests have ${config.server.shutdownGraceMs} ms`,
        { event: 'server.stopping' },
      );
      void server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('stopped', { event: 'server.stopped' });
  return 0;
}
