import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { listAudit } from '../../../data-access/audit-repository';
import { toAuditLine } from '../../../data-access/operations-repository';
import { AppError } from '../../../domain/errors';
import { auditCsv, auditFilterOf, toAuditOut } from '../../http/api/ops-routes';
import { printLine, runCommand } from '../run-command';
import { withDb } from '../with-db';
import { parseIntOption, progressReporter, table } from './receipts';

/**
 * `pagopa-adapter audit list|export`: every operator action (who, when, what, why, before/after),
 * listed newest first, or exported as CSV (RFC 4180) to stdout or a file.
 */

type AuditOpts = {
  actor?: string;
  subjectType?: string;
  subjectId?: string;
  from?: string;
  to?: string;
};

function checkDates(opts: AuditOpts): void {
  for (const [name, value] of [
    ['--from', opts.from],
    ['--to', opts.to],
  ] as const) {
    if (value !== undefined && Number.isNaN(new Date(value).getTime())) {
      throw new AppError('invalid-input', `${name} must be an ISO 8601 date or date-time`);
    }
  }
}

const addAuditFilters = (cmd: Command): Command =>
  cmd
    .option('--actor <name>', 'actions by this actor (cli:<user>, api:<key>, console:<key>)')
    .option('--subject-type <type>', 'receipt, debt_position, ledger_entry, outbox_event, ...')
    .option('--subject-id <id>', 'actions on this subject')
    .option('--from <iso>', 'actions at or after this time')
    .option('--to <iso>', 'actions before this time');

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the operators audit trail: list, export');

  addAuditFilters(audit.command('list').description('audit lines, newest first'))
    .option('--limit <n>', 'at most this many (1-1000)', parseIntOption('--limit', 1, 1_000), 50)
    .option('--json', 'print JSON')
    .action((opts: AuditOpts & { limit: number; json?: boolean }) =>
      runCommand(async () => {
        checkDates(opts);
        const lines = await withDb((db) =>
          listAudit(db, { ...auditFilterOf(opts), limit: opts.limit }),
        );
        const out = lines.map((l) => toAuditOut(toAuditLine(l)));
        if (opts.json === true) {
          printLine(JSON.stringify({ items: out }));
          return;
        }
        for (const line of table(
          ['ID', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'REASON'],
          out.map((a) => [
            String(a.id),
            a.occurredAt,
            a.actor,
            a.action,
            `${a.subjectType}:${a.subjectId}`,
            (a.reason ?? '').slice(0, 60),
          ]),
        ))
          printLine(line);
      }),
    );

  addAuditFilters(
    audit
      .command('export')
      .description('the audit trail as CSV, newest first (stdout or --output)'),
  )
    .option('--output <file>', 'write the CSV to this file instead of stdout')
    .action((opts: AuditOpts & { output?: string }) =>
      runCommand(async () => {
        checkDates(opts);
        const progress = progressReporter('exporting');
        const csv = await withDb((db) =>
          auditCsv(db, auditFilterOf(opts), (rows) => progress(rows, Math.max(rows, 1))),
        );
        if (opts.output === undefined) {
          process.stdout.write(csv);
          return;
        }
        await fs.writeFile(opts.output, csv, 'utf8');
        const rows = csv.split('\r\n').length - 2;
        printLine(`${rows} audit line(s) written to ${opts.output}`);
      }),
    );
}
