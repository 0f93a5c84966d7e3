import { Option, type Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../../../shared/config';
import { createLogger, type Logger } from '../../../shared/logger';
import { Lifecycle, ShutdownInProgressError } from '../../../shared/lifecycle';
import { ROLES, startService, type Role } from '../../../service';
import { printLine } from '../run-command';

/** Loads the config or ends the process with one line that names every bad key. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the service (default role: all)')
    .addOption(new Option('--role <role>', 'which part to run').choices(ROLES).default('all'))
    .action(async (opts: { role: Role }) => {
      const config = loadConfigOrExit();
      const logger = createLogger(config.logLevel);
      await serve(config, opts.role, logger);
    });
}

async function serve(config: Config, role: Role, logger: Logger): Promise<void> {
  const lifecycle = new Lifecycle(logger);
  installShutdown(lifecycle, config.shutdownTimeoutMs, logger);
  try {
    const running = await startService(config, role, logger, lifecycle);
    logger.info({ role, ports: running.ports }, 'service ready');
    if (role === 'all' && config.env !== 'production') printWhereToLook(running.ports);
  } catch (err) {
    // A signal during start-up makes the remaining start steps fail: that is the shutdown working.
    if (lifecycle.isStopping || err instanceof ShutdownInProgressError) return;
    logger.fatal({ err }, 'start-up failed');
    await lifecycle.stop(config.shutdownTimeoutMs);
    logger.flush();
    process.exit(1);
  }
}

function installShutdown(lifecycle: Lifecycle, timeoutMs: number, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (lifecycle.isStopping) return;
    logger.info({ signal, timeoutMs }, 'shutting down');
    // A hard deadline in case a stop ignores its own budget (unref: it must not keep us alive).
    setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, timeoutMs + 1_000).unref();
    void lifecycle.stop(timeoutMs).then((clean) => {
      logger.info({ clean }, 'stopped');
      logger.flush();
      process.exit(clean ? 0 : 1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function printWhereToLook(ports: { api?: number; soap?: number; simulator?: number }): void {
  const lines = [
    '',
    'pagopa-adapter is running (role all, embedded defaults)',
    `  ERP API + ops     http://127.0.0.1:${ports.api ?? '-'}`,
    `  health            http://127.0.0.1:${ports.api ?? '-'}/health/ready`,
    `  metrics           http://127.0.0.1:${ports.api ?? '-'}/metrics`,
    `  node callbacks    http://127.0.0.1:${ports.soap ?? '-'}  (SOAP)`,
    `  simulator         http://127.0.0.1:${ports.simulator ?? '-'}`,
    '  stop with Ctrl+C',
    '',
  ];
  for (const line of lines) printLine(line);
}
