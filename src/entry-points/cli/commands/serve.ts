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
    if (role === 'all' && config.env !== 'production') printWhereToLook(running);
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

function printWhereToLook(running: {
  ports: { api?: number; soap?: number; simulator?: number };
  demoCardCodes?: string[];
}): void {
  const { ports } = running;
  const api = `http://127.0.0.1:${ports.api ?? '-'}`;
  const sim = `http://127.0.0.1:${ports.simulator ?? '-'}`;
  const card = running.demoCardCodes?.[0];
  const lines = [
    '',
    'pagopa-adapter is running (role all, embedded defaults)',
    `  ERP API + ops     ${api}`,
    `  API docs          ${api}/docs`,
    `  ops console       ${api}/ops/`,
    `  health            ${api}/health/ready`,
    `  metrics           ${api}/metrics`,
    `  node callbacks    http://127.0.0.1:${ports.soap ?? '-'}  (SOAP)`,
    `  simulator         ${sim}  (Checkout, WISP, MyPay, PSP, portal)`,
    '  demo keys         ERP: dev-erp-key   operator: dev-operator-key',
  ];
  if (card !== undefined) {
    lines.push(
      `  demo cards        ${(running.demoCardCodes ?? []).join('  ')}`,
      '',
      '  Top up a card, then open the checkoutUrl of the answer and press "Pay":',
      `  curl -s -X POST ${api}/api/v1/cards/${card}/top-ups -H 'Authorization: Bearer dev-erp-key' -H "Idempotency-Key: $(date +%s%N)" -H 'Content-Type: application/json' -d '{"account":"CANTEEN","amountCents":2500,"payer":{"type":"F","fiscalCode":"RSSMRA85T10A562S","fullName":"Rossi Mario"},"returnUrl":"${sim}/sim/returned"}'`,
      '  Balance:',
      `  curl -s ${api}/api/v1/cards/${card} -H 'Authorization: Bearer dev-erp-key'`,
    );
  }
  lines.push('  stop with Ctrl+C', '');
  for (const line of lines) printLine(line);
}
