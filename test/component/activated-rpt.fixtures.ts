import nock from 'nock';
import { Registry } from 'prom-client';
import request from 'supertest';
import {
  buildNodoInviaRPTResponse,
  parsePaaAttivaRPTResponse,
} from '../../src/adapters/pagopa/old-model-soap';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { activatedRptSenders } from '../../src/entry-points/worker/activated-rpt-sender';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { ERP } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { fixture, postSoap } from '../helpers/notice-soap';
import { startTestService, testConfig } from '../helpers/service';

/**
 * What the old-model-3 tests share (the activated-RPT sender and its ops door): the rpt demo
 * domain served by two roles (api, soap) on one schema and no worker, so the only sender is the
 * run a test calls; positions created through the ERP API; activations through the SOAP door;
 * the node mocked by nock.
 */

export const DOMAIN = '80000000003';
export const NODE_URL = 'http://node.test/nodo/nodoPerPa';
const PASSWORD_ENV = 'COLLE_ALTO_STATION_PASSWORD';
export const PSP = { id: 'BCITITMM', broker: '00799960158', channel: '00799960158_01' };
const today = romeDate(new Date());

/** fixtures/soap/verify/paa-attiva-rpt.xml, for the rpt demo domain and PSP route `psp`. */
export const attivaXml = (iuv: string, ccp: string, amount: string, psp = PSP): string =>
  fixture('paa-attiva-rpt.xml', { IUV: iuv, CCP: ccp, AMOUNT: amount })
    .replaceAll('80000000001', DOMAIN)
    .replaceAll('80000000099', '80000000097')
    .replace('<identificativoPSP>BCITITMM<', `<identificativoPSP>${psp.id}<`)
    .replace('>00799960158<', `>${psp.broker}<`)
    .replace('>00799960158_01<', `>${psp.channel}<`);

/** The node's answer to a nodoInviaRPT: OK, or KO with `faultCode`. */
export const nodeAnswer = (faultCode?: string): { status: number; body: string } => ({
  status: 200,
  body: buildNodoInviaRPTResponse(
    faultCode === undefined
      ? { outcome: 'OK' }
      : {
          outcome: 'KO',
          fault: {
            faultCode,
            faultString: faultCode,
            id: 'NodoDeiPagamentiSPC',
            description: 'sim',
          },
        },
  ),
});

export type ActivationWorld = Awaited<ReturnType<typeof startActivationWorld>>;

/** Starts the two roles on a schema of their own; `stop` undoes everything, nock included. */
export async function startActivationWorld(name: string, env: Record<string, string> = {}) {
  const database = await createTestDatabase(name);
  process.env[PASSWORD_ENV] = 's3cret-station';
  const serviceEnv = {
    DATABASE_URL: database.url,
    DATABASE_MIGRATE_ON_START: 'false',
    QUEUE_PREFIX: `t-${name}-${process.pid}`,
    ...env,
  };
  const api = await startTestService(testConfig(serviceEnv), 'api');
  const soap = await startTestService(testConfig(serviceEnv), 'soap');
  const apiUrl = `http://127.0.0.1:${api.ports.api}`;
  const soapUrl = `http://127.0.0.1:${soap.ports.soap}`;
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const logger = createLogger('silent');
  const config = testConfig({ NODE_BASE_URL: NODE_URL, NODE_CIRCUIT_FAILURES_MAX: '1000' });
  const domains = loadDomains(config.domainsFile);
  const senders = activatedRptSenders(domains, config, { registry: new Registry(), logger });
  let seq = 0;

  /** A position of the rpt domain through the ERP API; resolves its option's IUV. */
  const newPosition = async (
    amountCents: number,
    option: Record<string, unknown> = {},
  ): Promise<string> => {
    seq += 1;
    const externalId = `${name.toUpperCase()}-${process.pid}-${seq}`;
    const res = await request(apiUrl)
      .put(`/api/v1/debt-positions/${externalId}`)
      .set(ERP)
      .send({
        domain: DOMAIN,
        service: 'NURSERY_FEE',
        debtor: { type: 'F', fiscalCode: 'FRRLCU82D12D612K', fullName: 'Ferri Luca' },
        description: `Retta asilo nido ${externalId}`,
        paymentOptions: [{ amountCents, dueDate: addDays(today, 30), ...option }],
      });
    expect(res.status).toBe(201);
    return (res.body as { paymentOptions: { iuv: string }[] }).paymentOptions[0]!.iuv;
  };
  /** paaAttivaRPT on the adapter's PaPerNodoPagamentoPsp door, answered 200. */
  const activate = async (iuv: string, ccp: string, amount: string, psp = PSP) => {
    const { status, text } = await postSoap(
      `${soapUrl}/pagopa/PaPerNodoPagamentoPsp`,
      attivaXml(iuv, ccp, amount, psp),
    );
    expect(status).toBe(200);
    return parsePaaAttivaRPTResponse(text);
  };

  return {
    database,
    apiUrl,
    soapUrl,
    serviceEnv,
    logger,
    domains,
    senders,
    newPosition,
    activate,
    stop: async (): Promise<void> => {
      nock.cleanAll();
      nock.enableNetConnect();
      delete process.env[PASSWORD_ENV];
      await soap.stop();
      await api.stop();
      await database.drop();
    },
  };
}
