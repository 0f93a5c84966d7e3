import fs from 'node:fs';
import { z } from 'zod';
import { ACCOUNTS } from '../data-access/ledger-repository';
import { CARD_CODE_ALGORITHMS, DEFAULT_CARD_CODE_ALGORITHM } from '../domain/codes/card-code';
import { AppError } from '../domain/errors';
import type { NoticeScheme } from '../domain/positions/notice';

/**
 * The creditor entities (domains) this deployment serves, from a JSON file validated at start.
 *
 * Why a file and not tables: a domain's station, broker, IBANs and catalogue change with a
 * contract, not with a click; they are reviewed like code. Secrets are not in the file: a domain
 * names the environment variable that holds each one.
 */

const fiscalCodePA = z.string().regex(/^\d{11}$/, 'must be 11 digits');
const iban = z.string().regex(/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/, 'must be an IBAN (no spaces)');
const envName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must name an environment variable');
const twoDigits = z.string().regex(/^\d{2}$/, 'must be 2 digits');

const ServiceSchema = z.strictObject({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,49}$/, 'upper-case letters, digits and _'),
  description: z.string().min(1).max(140),
  /** pagoPA taxonomy code (transferCategory), e.g. 0107102SP for school transport. */
  taxonomyCode: z.string().regex(/^\d{7}[A-Z]{2}$/, 'must be a taxonomy code like 0107102SP'),
  iban,
  postalIban: iban.optional(),
  /** The card account this service credits or debits, when it concerns a card. */
  account: z.enum(ACCOUNTS).optional(),
});

const AccountSettingsSchema = z.strictObject({
  overdraftLimitCents: z.number().int().min(0).max(100_000_00),
  topUpMinCents: z.number().int().min(1).default(100),
  topUpMaxCents: z.number().int().min(1).max(999_999_999_99).default(500_00),
});

const DomainSchema = z
  .strictObject({
    fiscalCode: fiscalCodePA,
    name: z.string().min(1).max(140),
    office: z.string().max(140).optional(),
    dialect: z.enum(['pagopa', 'rpt', 'mypay']),
    brokerFiscalCode: fiscalCodePA,
    stationId: z.string().min(1).max(35),
    stationPasswordEnv: envName.optional(),
    subscriptionKeyEnv: envName.optional(),
    /** MyPay (dialect mypay): the tenant's IPA code (codIpaEnte) and its SIL password's variable. */
    mypayIpaCode: z.string().min(1).max(35).optional(),
    mypayPasswordEnv: envName.optional(),
    auxDigit: z.union([z.literal(0), z.literal(3)]),
    segregationCode: twoDigits.optional(),
    applicationCode: twoDigits.optional(),
    cbillCode: z.string().max(5).optional(),
    postalAccount: z
      .strictObject({
        accountNumber: z.string().regex(/^\d{1,12}$/),
        holderName: z.string().min(1).max(140),
        authorisationCode: z.string().max(50).optional(),
      })
      .optional(),
    cardCodeAlgorithm: z.enum(CARD_CODE_ALGORITHMS).default(DEFAULT_CARD_CODE_ALGORITHM),
    accounts: z.strictObject({
      CANTEEN: AccountSettingsSchema,
      NURSERY_MEALS: AccountSettingsSchema,
      SCHOOL_TRANSPORT: AccountSettingsSchema,
    }),
    services: z.array(ServiceSchema).min(1).max(200),
    allowedIps: z.array(z.string().min(1)).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.auxDigit === 3 && d.segregationCode === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['segregationCode'],
        message: 'is required with auxDigit 3',
      });
    }
    if (d.auxDigit === 0 && d.applicationCode === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['applicationCode'],
        message: 'is required with auxDigit 0',
      });
    }
    const codes = d.services.map((s) => s.code);
    const dup = codes.find((c, i) => codes.indexOf(c) !== i);
    if (dup !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['services'],
        message: `service ${dup} is listed twice`,
      });
  });

const DomainsFileSchema = z
  .strictObject({
    /** The domain used when an ERP request names none (single-municipality deployments). */
    defaultDomain: fiscalCodePA.optional(),
    domains: z.array(DomainSchema).min(1).max(500),
  })
  .superRefine((f, ctx) => {
    const codes = f.domains.map((d) => d.fiscalCode);
    const dup = codes.find((c, i) => codes.indexOf(c) !== i);
    if (dup !== undefined)
      ctx.addIssue({ code: 'custom', path: ['domains'], message: `domain ${dup} is listed twice` });
    if (f.defaultDomain !== undefined && !codes.includes(f.defaultDomain)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultDomain'],
        message: 'is not one of the domains',
      });
    }
  });

export type DomainConfig = z.infer<typeof DomainSchema>;
export type ServiceConfig = z.infer<typeof ServiceSchema>;
export type DomainsConfig = z.infer<typeof DomainsFileSchema>;

export class DomainsConfigError extends Error {
  override readonly name = 'DomainsConfigError';
}

/** Looks domains and their services up; built once from the validated file. */
export class Domains {
  private readonly byFiscalCode: ReadonlyMap<string, DomainConfig>;

  constructor(readonly config: DomainsConfig) {
    this.byFiscalCode = new Map(config.domains.map((d) => [d.fiscalCode, d]));
  }

  get all(): readonly DomainConfig[] {
    return this.config.domains;
  }

  find(fiscalCode: string): DomainConfig | undefined {
    return this.byFiscalCode.get(fiscalCode);
  }

  /** The named domain, or the default one when the request names none. */
  resolve(fiscalCode: string | undefined): DomainConfig | undefined {
    const code =
      fiscalCode ??
      this.config.defaultDomain ??
      (this.config.domains.length === 1 ? this.config.domains[0]?.fiscalCode : undefined);
    return code === undefined ? undefined : this.byFiscalCode.get(code);
  }

  service(domain: DomainConfig, code: string): ServiceConfig | undefined {
    return domain.services.find((s) => s.code === code);
  }
}

export function parseDomainsConfig(json: unknown, source: string): Domains {
  const parsed = DomainsFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`);
    throw new DomainsConfigError(`invalid domains file ${source}: ${problems.join('; ')}`);
  }
  return new Domains(parsed.data);
}

/** Reads and validates the domains file. @throws DomainsConfigError naming every problem. */
export function loadDomains(path: string): Domains {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new DomainsConfigError(`cannot read domains file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DomainsConfigError(`domains file ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseDomainsConfig(json, path);
}

/**
 * How a domain numbers its notices: aux digit 3 with its segregation code, or 0 with its
 * application code (the domains file guarantees the code its aux digit needs).
 * @throws AppError('internal') when the domain lacks that code.
 */
export function noticeSchemeOf(domain: DomainConfig): NoticeScheme {
  if (domain.auxDigit === 3 && domain.segregationCode !== undefined) {
    return { auxDigit: 3, segregationCode: domain.segregationCode };
  }
  if (domain.auxDigit === 0 && domain.applicationCode !== undefined) {
    return { auxDigit: 0, applicationCode: domain.applicationCode };
  }
  throw new AppError(
    'internal',
    `domain ${domain.fiscalCode} has no code for aux digit ${domain.auxDigit}`,
  );
}
