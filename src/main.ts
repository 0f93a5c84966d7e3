import { CommanderError } from 'commander';
import { buildProgram } from './entry-points/cli/program';

/**
 * The composition root: parses the command line; `serve` loads the config, wires the roles
 * (src/service.ts) and installs the shutdown handlers.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (help, unknown option, missing argument).
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

if (require.main === module) {
  runCli(process.argv).catch((err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
