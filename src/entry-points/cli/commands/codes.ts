import type { Command } from 'commander';
import {
  CARD_CODE_ALGORITHMS,
  DEFAULT_CARD_CODE_ALGORITHM,
  makeCardCode,
  makeCreditorReference,
  makeNoticeNumber,
  makePaymentNoticeQrCode,
  parseCardCode,
  parseCreditorReference,
  parseNoticeNumber,
  toCardCodeAlgorithm,
  toCents,
  type ParsedNoticeNumber,
} from '../../../domain/codes';
import { AppError, toAppError } from '../../../domain/errors';
import { printLine, runCommand } from '../run-command';

/**
 * Operator commands over the identifiers of pagoPA: notice numbers, RF creditor references, card
 * codes and the payment notice QR code. Pure computations: no configuration, no database.
 * Each prints a human-readable form, or one line of JSON with `--json`; bad input exits 1 with a
 * one-line reason on stderr (see runCommand).
 */

type JsonOption = { json?: boolean };

const print = (options: JsonOption, json: unknown, human: string): void =>
  printLine(options.json === true ? JSON.stringify(json) : human);

/** Aligned `label  value` lines for the human-readable forms. */
const table = (rows: [string, string | undefined][]): string =>
  rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([label, value]) => `${label.padEnd(18)}${value}`)
    .join('\n');

function describeNotice(parsed: ParsedNoticeNumber): string {
  return table([
    ['notice number', parsed.noticeNumber],
    ['aux digit', String(parsed.auxDigit)],
    ['segregation code', parsed.segregationCode],
    ['application code', parsed.applicationCode],
    ['IUV', parsed.iuv],
    ['base', parsed.base],
    [
      'check digits',
      parsed.checkDigits === undefined
        ? 'none (aux digit 1)'
        : `${parsed.checkDigits} (${parsed.checkDigitsValid ? 'valid' : 'DO NOT MATCH'})`,
    ],
  ]);
}

function registerNoticeCommands(program: Command): void {
  const notice = program.command('notice').description('notice numbers (NAV) and IUVs');

  notice
    .command('parse')
    .description(
      'split a notice number into aux digit, codes, IUV and check digits (spaces are ignored); ' +
        'wrong check digits are reported, not refused',
    )
    .argument('<noticeNumber>', '18 digits, e.g. 302032002700000251')
    .option('--json', 'print JSON')
    .action((noticeNumber: string, options: JsonOption) =>
      runCommand(() => {
        const parsed = parseNoticeNumber(noticeNumber.replace(/ /g, ''));
        print(options, parsed, describeNotice(parsed));
      }),
    );

  notice
    .command('make')
    .description('make a notice number with aux digit 3 (segregation code) or 0 (application code)')
    .requiredOption('--aux <digit>', '3 or 0')
    .option('--segregation <code>', 'segregation code, 2 digits (aux 3)')
    .option('--application <code>', 'application code, 2 digits (aux 0)')
    .requiredOption('--base <digits>', 'IUV base, 13 digits')
    .option('--json', 'accepted for symmetry: the output is the notice number either way')
    .action((options: { aux: string; segregation?: string; application?: string; base: string }) =>
      runCommand(() => {
        printLine(makeNoticeNumber(noticeParts(options)));
      }),
    );
}

function noticeParts(options: {
  aux: string;
  segregation?: string;
  application?: string;
  base: string;
}): Parameters<typeof makeNoticeNumber>[0] {
  if (options.aux === '3') {
    if (options.segregation === undefined || options.application !== undefined) {
      throw new AppError('invalid-input', 'aux digit 3 takes --segregation and no --application');
    }
    return { auxDigit: 3, segregationCode: options.segregation, base: options.base };
  }
  if (options.aux === '0') {
    if (options.application === undefined || options.segregation !== undefined) {
      throw new AppError('invalid-input', 'aux digit 0 takes --application and no --segregation');
    }
    return { auxDigit: 0, applicationCode: options.application, base: options.base };
  }
  throw new AppError(
    'invalid-input',
    `--aux ${options.aux}: notice numbers are made with aux digit 3 or 0 only`,
  );
}

function registerRfCommands(program: Command): void {
  const rf = program.command('rf').description('ISO 11649 creditor references (RF)');

  rf.command('make')
    .description('make RF<check digits><reference>')
    .argument('<reference>', '1 to 21 letters or digits')
    .option('--json', 'print JSON')
    .action((reference: string, options: JsonOption) =>
      runCommand(() => {
        const creditorReference = makeCreditorReference(reference);
        print(options, parseCreditorReference(creditorReference), creditorReference);
      }),
    );

  rf.command('check')
    .description(
      'verify creditor references; quote the paper form ("RF18 5390 0754 7034"). ' +
        'Exits 1 when any is invalid',
    )
    .argument('<creditorReference...>', 'one or more RF references')
    .option('--json', 'print JSON')
    .action((inputs: string[], options: JsonOption) =>
      runCommand(() => {
        const results = inputs.map((input) => {
          try {
            return { input, valid: true as const, ...parseCreditorReference(input) };
          } catch (err) {
            return { input, valid: false as const, reason: toAppError(err).message };
          }
        });
        print(
          options,
          results,
          results.map((r) => `${r.input}: ${r.valid ? 'valid' : 'INVALID'}`).join('\n'),
        );
        const invalid = results.filter((r) => !r.valid);
        const [first] = invalid;
        if (first !== undefined && !first.valid) {
          throw new AppError(
            'rf-invalid',
            `${invalid.length} of ${results.length} invalid; first: ${first.reason}`,
          );
        }
      }),
    );
}

function registerCardCodeCommands(program: Command): void {
  const cardCode = program
    .command('card-code')
    .description('card codes ("Codice Iris"): card number + 2 check digits');
  const algorithmHelp = `check-digit algorithm of the domain: ${CARD_CODE_ALGORITHMS.join(
    ' | ',
  )} (mod93: number mod 93; mod97: ISO 7064 MOD 97-10)`;

  cardCode
    .command('make')
    .description('make the card code of a card number')
    .argument('<cardNumber>', '1 to 33 digits')
    .option('--algorithm <name>', algorithmHelp, DEFAULT_CARD_CODE_ALGORITHM)
    .option('--json', 'print JSON')
    .action((cardNumber: string, options: JsonOption & { algorithm: string }) =>
      runCommand(() => {
        const algorithm = toCardCodeAlgorithm(options.algorithm);
        const code = makeCardCode(cardNumber, algorithm);
        print(options, { ...parseCardCode(code, algorithm), algorithm }, code);
      }),
    );

  cardCode
    .command('check')
    .description('verify a card code; exits 1 with the reason when it is mistyped')
    .argument('<cardCode>', 'the card number followed by 2 check digits')
    .option('--algorithm <name>', algorithmHelp, DEFAULT_CARD_CODE_ALGORITHM)
    .option('--json', 'print JSON')
    .action((code: string, options: JsonOption & { algorithm: string }) =>
      runCommand(() => {
        const algorithm = toCardCodeAlgorithm(options.algorithm);
        const parsed = parseCardCode(code, algorithm);
        print(
          options,
          { ...parsed, algorithm, valid: true },
          `${parsed.cardCode}: valid (card number ${parsed.cardNumber}, ${algorithm})`,
        );
      }),
    );
}

function registerQrCommand(program: Command): void {
  program
    .command('qr')
    .description('the QR code string of a payment notice: PAGOPA|002|<NAV>|<CF>|<cents>')
    .argument('<noticeNumber>', '18 digits with valid check digits')
    .argument('<fiscalCode>', "the creditor's fiscal code, 11 digits")
    .argument('<amountCents>', 'whole cents, e.g. 1230 for 12.30 euros; 0 when not known')
    .option('--json', 'print JSON')
    .action((noticeNumber: string, fiscalCode: string, amount: string, options: JsonOption) =>
      runCommand(() => {
        if (!/^\d{1,16}$/.test(amount)) {
          throw new AppError(
            'amount-invalid',
            `amount "${amount.slice(0, 20)}" must be whole cents, e.g. 1230 for 12.30 euros`,
          );
        }
        const amountCents = toCents(Number(amount));
        const qrCode = makePaymentNoticeQrCode({
          noticeNumber,
          creditorFiscalCode: fiscalCode,
          amountCents,
        });
        print(
          options,
          { qrCode, noticeNumber, creditorFiscalCode: fiscalCode, amountCents },
          qrCode,
        );
      }),
    );
}

/** Adds `notice`, `rf`, `card-code` and `qr` to the program. */
export function registerCodesCommands(program: Command): void {
  registerNoticeCommands(program);
  registerRfCommands(program);
  registerCardCodeCommands(program);
  registerQrCommand(program);
}
