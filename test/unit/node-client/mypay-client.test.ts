/**
 * The mypay dialect against a nock'd MyPay answering real XML (fixtures built with our codecs,
 * checked against MyPay's XSD in test/unit/mypay).
 */
import nock from 'nock';
import { parseDovuti, parseVersamento } from '../../../src/adapters/mypay/documents';
import {
  parseChiediPagatiRequest,
  parseImportaDovutoRequest,
  parseInviaDovutiRequest,
} from '../../../src/adapters/mypay/sil-soap';
import { createNodeClient, MyPayNodeClient } from '../../../src/adapters/node-client';
import { fixture } from '../pagopa/old-model-samples';
import { dueImport, dues, paid } from '../mypay/samples';
import { aDomain, harness, useNock, wsdl, type Harness } from './helpers';

const MYPAY = 'https://pagamenti.regione.puglia.it/mypay4';
const PATH = '/mypay4/ws/pa/';
const PASSWORD = 'SilPwd!2024';

const settings = {
  nodeBaseUrl: undefined,
  checkoutBaseUrl: undefined,
  nodeRestBaseUrl: undefined,
  mypayBaseUrl: MYPAY,
  nodeTimeoutMs: 2_000,
  nodeRetryAttemptsMax: 3,
  nodeRetryBackoffBaseMs: 1,
  nodeCircuitFailuresMax: 50,
  nodeCircuitOpenMs: 30_000,
  nodeTls: {},
};

function client(h: Harness): MyPayNodeClient {
  const c = createNodeClient(
    aDomain({ dialect: 'mypay', mypayIpaCode: 'C_A669', mypayPasswordEnv: 'MYPAY_PWD' }),
    { settings, transport: h.transport, wsdl, env: { MYPAY_PWD: PASSWORD } },
  );
  if (!(c instanceof MyPayNodeClient)) throw new Error('expected the mypay client');
  return c;
}

const sil = (op: string) =>
  nock('https://pagamenti.regione.puglia.it', { reqheaders: { soapaction: `"${op}"` } }).post(
    PATH,
    (body: string) => body.includes(`<ppt:${op}`),
  );

describe('mypay dialect client', () => {
  useNock();
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  test('paaSILInviaDovuti sends the Dovuti with IPA code and password; redirect and idSession come back', async () => {
    let sent = '';
    sil('paaSILInviaDovuti').reply(200, (_u, b) => {
      sent = b as string;
      return fixture('mypay/paaSILInviaDovuti.res.ok.xml');
    });
    const started = await client(h).start({ dues, returnUrl: 'https://comune.example/back' });
    expect(started).toEqual({
      redirectUrl:
        'https://pagamenti.regione.puglia.it/pa/public/carrello/checkout?idSession=8c1f5d7e-3b2a-4c55-9a0e-1d2f3a4b5c6d',
      sessionId: '8c1f5d7e-3b2a-4c55-9a0e-1d2f3a4b5c6d',
    });
    const req = parseInviaDovutiRequest(sent);
    expect(req.caller).toEqual({ ipaCode: 'C_A669', password: PASSWORD });
    expect(req.returnUrl).toBe('https://comune.example/back');
    expect(parseDovuti(req.dovutiXml).items.map((i) => i.dueId)).toEqual(
      dues.items.map((i) => i.dueId),
    );
  });

  test("paaSILInviaDovuti's KO is upstream-error with MyPay's code, sent once", async () => {
    sil('paaSILInviaDovuti').reply(200, fixture('mypay/paaSILInviaDovuti.res.ko.xml'));
    await expect(client(h).start({ dues })).rejects.toMatchObject({
      code: 'upstream-error',
      details: { faultCode: 'PAA_ENTE_NON_VALIDO' },
    });
    sil('paaSILInviaDovuti').reply(500, fixture('soap/old-model/soap-fault.xml'));
    await expect(client(h).start({ dues })).rejects.toMatchObject({ code: 'upstream-error' });
    expect(h.sleeps).toEqual([]);
  });

  test('paaSILImportaDovuto sends the Versamento with flagGeneraIuv and returns the IUV; KO is an error', async () => {
    let sent = '';
    sil('paaSILImportaDovuto').reply(200, (_u, b) => {
      sent = b as string;
      return fixture('mypay/paaSILImportaDovuto.res.ok.xml');
    });
    await expect(client(h).importDue(dueImport)).resolves.toEqual({
      iuv: '05000000000012399',
      noticeUrl: 'https://pagamenti.regione.puglia.it/pa/avviso/05000000000012399.pdf',
    });
    const req = parseImportaDovutoRequest(sent);
    expect(req.generateIuv).toBe(true);
    expect(parseVersamento(req.versamentoXml)).toMatchObject({ action: 'I', amountCents: 3000 });
    sil('paaSILImportaDovuto').reply(200, fixture('mypay/paaSILImportaDovuto.res.ko.xml'));
    await expect(client(h).importDue(dueImport)).rejects.toMatchObject({
      details: { faultCode: 'PAA_IMPORT_DOVUTO_DUPLICATO' },
    });
  });

  test('paaSILChiediPagati: a Pagati document gives the outcome and the parsed receipt', async () => {
    let sent = '';
    sil('paaSILChiediPagati').reply(200, (_u, b) => {
      sent = b as string;
      return fixture('mypay/paaSILChiediPagati.res.paid.xml');
    });
    const report = await client(h).paid('8c1f5d7e-3b2a-4c55-9a0e-1d2f3a4b5c6d');
    expect(report).toMatchObject({ state: 'paid', paid });
    expect(parseChiediPagatiRequest(sent)).toEqual({
      caller: { ipaCode: 'C_A669', password: PASSWORD },
      sessionId: '8c1f5d7e-3b2a-4c55-9a0e-1d2f3a4b5c6d',
    });
  });

  test('paaSILChiediPagati: PAA_PAGAMENTO_NON_INIZIATO is a state; PAA_SYSTEM_ERROR is retried', async () => {
    sil('paaSILChiediPagati').reply(200, fixture('mypay/paaSILChiediPagati.res.non-iniziato.xml'));
    await expect(client(h).paid('s1')).resolves.toEqual({
      state: 'not-started',
      faultCode: 'PAA_PAGAMENTO_NON_INIZIATO',
    });
    sil('paaSILChiediPagati')
      .times(3)
      .reply(200, fixture('mypay/paaSILChiediPagati.res.system-error.xml'));
    await expect(client(h).paid('s2')).rejects.toMatchObject({
      code: 'upstream-error',
      details: { faultCode: 'PAA_SYSTEM_ERROR' },
    });
    expect(h.sleeps).toHaveLength(2);
  });

  test('the MyPay password never reaches the logs', async () => {
    sil('paaSILChiediPagati').reply(503);
    sil('paaSILChiediPagati').reply(200, fixture('mypay/paaSILChiediPagati.res.paid.xml'));
    await client(h).paid('s3');
    expect(h.logs.length).toBeGreaterThan(0);
    expect(h.logs.join('\n')).not.toContain(PASSWORD);
  });

  test('a mypay domain without its IPA code does not get a client', () => {
    expect(() =>
      createNodeClient(aDomain({ dialect: 'mypay' }), {
        settings,
        transport: h.transport,
        wsdl,
        env: {},
      }),
    ).toThrow(/mypayIpaCode/);
  });
});
