import { AppError } from '../../../src/domain/errors';
import * as soap from '../../../src/adapters/pagopa/old-model-soap';
import { parseReportingFlow } from '../../../src/adapters/pagopa/reporting-flow';
import { buildRpt, parseRt } from '../../../src/adapters/pagopa/rpt-rt';
import {
  credentials,
  fixture,
  fullFault,
  header,
  minimalFault,
  minimalRpt,
} from './old-model-samples';

const f = (name: string): string => fixture(`soap/old-model/${name}`);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-app-error';
  }
  return undefined;
}

describe('requests the Node sends us (fixtures)', () => {
  it('paaInviaRT: header, signature type and the wrapped base64 RT', () => {
    const r = soap.parsePaaInviaRTRequest(f('paaInviaRT.req.xml'));
    expect(r.header).toEqual(header);
    expect(r.signatureType).toBe('0');
    expect(parseRt(r.rtXml).totalPaidCents).toBe(2500);
    expect(soap.exposedOperationOf(f('paaInviaRT.req.xml'))).toBe('paaInviaRT');
  });

  it('paaInviaRT with other prefixes, an empty tipoFirma and a marca da bollo RT', () => {
    const r = soap.parsePaaInviaRTRequest(f('paaInviaRT.req.marca-da-bollo.other-prefixes.xml'));
    expect(r.signatureType).toBe('0');
    expect(parseRt(r.rtXml).lines[1]?.attachment?.kind).toBe('BD');
  });

  it('paaVerificaRPT and paaAttivaRPT (qualified soggettoPagatore inside an unqualified wrapper)', () => {
    const v = soap.parsePaaVerificaRPTRequest(f('paaVerificaRPT.req.xml'));
    expect(v).toMatchObject({
      pspId: 'BCITITMM',
      header: { ccp: '7f3c1a9e2b4d4c8f9a0e1b2c3d4e5f60' },
    });
    const a = soap.parsePaaAttivaRPTRequest(f('paaAttivaRPT.req.xml'));
    expect(a).toMatchObject({
      pspId: 'BCITITMM',
      pspBrokerId: '00799960158',
      pspChannelId: '00799960158_01',
      pspPaymentData: {
        amountCents: 4280,
        debtor: { kind: 'F', taxCode: 'VRDLGU85M41A662Z', name: 'Luigia Verdi' },
      },
    });
  });

  it('refuses the DOCTYPE attack, a missing header and an operation we do not serve', () => {
    expect(codeOf(() => soap.parsePaaInviaRTRequest(f('paaInviaRT.req.attack-doctype.xml')))).toBe(
      'xml-forbidden-construct',
    );
    const noHeader = f('paaVerificaRPT.req.xml').replace(
      /<soapenv:Header>[\s\S]*<\/soapenv:Header>/,
      '',
    );
    expect(codeOf(() => soap.parsePaaVerificaRPTRequest(noHeader))).toBe('xml-schema-invalid');
    expect(codeOf(() => soap.exposedOperationOf(f('nodoInviaRPT.res.ok.xml')))).toBe(
      'unknown-operation',
    );
    expect(codeOf(() => soap.parsePaaVerificaRPTRequest(f('paaAttivaRPT.req.xml')))).toBe(
      'xml-schema-invalid',
    );
  });

  it('refuses a corrupted base64 RT and a malformed amount', () => {
    const bad = f('paaInviaRT.req.xml').replace(/<rt>[^<]+<\/rt>/, '<rt>not*base64</rt>');
    expect(codeOf(() => soap.parsePaaInviaRTRequest(bad))).toBe('xml-schema-invalid');
    const amount = f('paaAttivaRPT.req.xml').replace('42.80', '42.8');
    expect(codeOf(() => soap.parsePaaAttivaRPTRequest(amount))).toBe('amount-invalid');
  });
});

describe('answers the Node gives us (fixtures)', () => {
  it('paaInviaRT OK and fault', () => {
    expect(soap.parsePaaInviaRTResponse(f('paaInviaRT.res.ok.xml'))).toEqual({ outcome: 'OK' });
    expect(soap.parsePaaInviaRTResponse(f('paaInviaRT.res.fault.xml'))).toEqual({
      outcome: 'KO',
      fault: {
        faultCode: 'PAA_RPT_SCONOSCIUTA',
        faultString: 'RPT sconosciuta',
        id: '77777777777',
        description: 'Nessuna RPT per IUV 02000000000012345 e CCP n/a',
      },
    });
  });

  it('paaVerificaRPT with qualified enteBeneficiario and mixed causale pieces', () => {
    const r = soap.parsePaaVerificaRPTResponse(f('paaVerificaRPT.res.ok.spezzoni.xml'));
    expect(r.paymentData).toMatchObject({
      amountCents: 4280,
      creditIban: 'IT60X0542811101000000123456',
      creditor: { taxCode: '77777777777', name: 'Comune di Prova', city: 'Bari' },
      remittance: {
        kind: 'parts',
        parts: [
          { text: 'Verbale 12345/2024' },
          { text: 'Sanzione ridotta', amountCents: 2940 },
          { text: 'Spese di notifica', amountCents: 1340 },
        ],
      },
    });
    expect(
      soap.parsePaaVerificaRPTResponse(f('paaVerificaRPT.res.fault.xml')).fault?.faultCode,
    ).toBe('PAA_PAGAMENTO_DUPLICATO');
  });

  it('nodoInviaRPT OK with redirect URL, and the extended faultBean', () => {
    expect(soap.parseNodoInviaRPTResponse(f('nodoInviaRPT.res.ok.xml'))).toEqual({
      outcome: 'OK',
      redirect: 1,
      url: 'https://wisp2.pagopa.gov.it/wallet/welcome?idSession=6c2b7c56-3c1e-4b1e-9f47-a2e1d3c4b5a6',
    });
    expect(soap.parseNodoInviaRPTResponse(f('nodoInviaRPT.res.fault-extended.xml')).fault).toEqual({
      faultCode: 'PPT_CANALE_ERRORE',
      faultString: 'Errore restituito dal canale',
      id: 'NodoDeiPagamentiSPC',
      description: 'Il PSP ha rifiutato la RPT',
      originalFaultCode: 'CANALE_RPT_RIFIUTATA',
      originalFaultString: 'RPT rifiutata',
      originalDescription: 'IBAN non valido per il PSP',
    });
  });

  it('nodoInviaCarrelloRPT KO lists the refused RPTs by serial', () => {
    const r = soap.parseNodoInviaCarrelloRPTResponse(f('nodoInviaCarrelloRPT.res.ko.xml'));
    expect(r.outcome).toBe('KO');
    expect(r.rptErrors.map((e) => [e.serial, e.faultCode])).toEqual([
      [2, 'PPT_IBAN_NON_CENSITO'],
      [3, 'PPT_RPT_DUPLICATA'],
    ]);
  });

  it('nodoChiediStatoRPT with RPT and payment history', () => {
    const r = soap.parseNodoChiediStatoRPTResponse(f('nodoChiediStatoRPT.res.xml'));
    expect(r.status?.state).toBe('RT_ACCETTATA_PA');
    expect(r.status?.rptHistory.map((h) => h.state)).toEqual([
      'RPT_RICEVUTA_NODO',
      'RPT_ACCETTATA_NODO',
      'RT_ACCETTATA_PA',
    ]);
    expect(r.status?.rptHistory[1]?.at).toBe('2024-03-15T10:20:02.345+01:00');
    expect(r.status?.paymentHistory).toEqual([
      {
        progressive: 1,
        at: '2024-03-15T10:22:31',
        state: 'PAGATO',
        description: 'Pagamento eseguito',
      },
    ]);
  });

  it('nodoChiediCopiaRT returns the RT, or a fault without it', () => {
    const r = soap.parseNodoChiediCopiaRTResponse(f('nodoChiediCopiaRT.res.xml'));
    expect(parseRt(r.rtXml!).lines).toHaveLength(3);
    const nf = soap.parseNodoChiediCopiaRTResponse(f('nodoChiediCopiaRT.res.fault.xml'));
    expect(nf.rtXml).toBeUndefined();
    expect(nf.fault?.faultCode).toBe('PPT_RT_SCONOSCIUTA');
  });

  it('nodoChiediListaPendentiRPT', () => {
    const r = soap.parseNodoChiediListaPendentiRPTResponse(f('nodoChiediListaPendentiRPT.res.xml'));
    expect(r.pending?.totalReturned).toBe(2);
    expect(r.pending?.items.map((i) => i.state)).toEqual([
      'RPT_ACCETTATA_PSP',
      'RPT_INVIATA_A_PSP',
    ]);
  });

  it('reporting flow list and flow download', () => {
    const list = soap.parseNodoChiediElencoFlussiResponse(
      f('nodoChiediElencoFlussiRendicontazione.res.xml'),
    );
    expect(list.flows?.items).toEqual([
      { flowId: '2024-03-16ABI03069-S1040001', flowDateTime: '2024-03-17T08:15:00' },
      { flowId: '2024-03-16ABI03069-S1050001', flowDateTime: '2024-03-17T08:16:00+01:00' },
    ]);
    const flow = soap.parseNodoChiediFlussoResponse(f('nodoChiediFlussoRendicontazione.res.xml'));
    expect(parseReportingFlow(flow.flowXml!).payments.map((p) => p.outcome)).toEqual([0, 4, 8, 9]);
    const fault = soap.parseNodoChiediFlussoResponse(
      f('nodoChiediFlussoRendicontazione.res.fault.xml'),
    );
    expect(fault).toEqual({
      fault: {
        faultCode: 'PPT_ID_FLUSSO_SCONOSCIUTO',
        faultString: 'Identificativo flusso sconosciuto',
        id: 'NodoDeiPagamentiSPC',
        serial: 0,
      },
    });
  });

  it('a SOAP Fault becomes upstream-error with its code and string', () => {
    try {
      soap.parseNodoInviaRPTResponse(f('soap-fault.xml'));
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('upstream-error');
      expect((err as AppError).details).toEqual({
        faultcode: 'soap:Server',
        faultstring: 'Internal Error',
      });
    }
  });
});

describe('round trips of what we build', () => {
  const rptXml = buildRpt(minimalRpt);
  const route = { pspId: 'AGID_01', pspBrokerId: '97735020584', channelId: '97735020584_02' };
  const cases: [string, () => unknown, () => unknown][] = [];
  const add = <T>(
    name: string,
    value: T,
    build: (v: T) => string,
    parse: (x: string) => unknown,
  ): void => {
    cases.push([name, () => parse(build(value)), () => value]);
  };
  add(
    'paaInviaRT request',
    { header, signatureType: '0', rtXml: '<RT/>' },
    soap.buildPaaInviaRTRequest,
    soap.parsePaaInviaRTRequest,
  );
  add(
    'paaInviaRT response',
    { fault: fullFault, outcome: 'KO' as const },
    soap.buildPaaInviaRTResponse,
    soap.parsePaaInviaRTResponse,
  );
  add(
    'paaVerificaRPT request',
    { header, pspId: 'BCITITMM' },
    soap.buildPaaVerificaRPTRequest,
    soap.parsePaaVerificaRPTRequest,
  );
  add(
    'paaAttivaRPT request',
    {
      header,
      pspId: 'BCITITMM',
      pspPaymentData: {
        amountCents: 4280,
        payer: { kind: 'F' as const, taxCode: 'RSSMRA80A01F205X', name: 'Mario & Rossi' },
        debitIban: 'IT02L1234512345123456789012',
      },
      pspBrokerId: '00799960158',
      pspChannelId: '00799960158_01',
    },
    soap.buildPaaAttivaRPTRequest,
    soap.parsePaaAttivaRPTRequest,
  );
  add(
    'paaAttivaRPT response',
    {
      outcome: 'OK' as const,
      paymentData: {
        amountCents: 4280,
        creditIban: 'IT60X0542811101000000123456',
        creditor: { taxCode: '77777777777', name: 'Comune di Prova' },
        remittance: { kind: 'text' as const, text: '/RFB/02000000000012345/42.80' },
      },
    },
    soap.buildPaaAttivaRPTResponse,
    soap.parsePaaAttivaRPTResponse,
  );
  add(
    'nodoInviaRPT request',
    { header, password: credentials.password, ...route, rptXml },
    soap.buildNodoInviaRPTRequest,
    soap.parseNodoInviaRPTRequest,
  );
  add(
    'nodoInviaCarrelloRPT request',
    {
      header: { brokerId: '77777777777', stationId: '77777777777_01', cartId: 'CART-1' },
      password: credentials.password,
      ...route,
      items: [{ domainId: '77777777777', iuv: '02000000000012345', ccp: 'n/a', rptXml }],
      requireLightPayment: false,
      multiBeneficiary: true,
    },
    soap.buildNodoInviaCarrelloRPTRequest,
    soap.parseNodoInviaCarrelloRPTRequest,
  );
  add(
    'nodoInviaCarrelloRPT response',
    { outcome: 'KO' as const, rptErrors: [{ ...minimalFault, serial: 1 }] },
    soap.buildNodoInviaCarrelloRPTResponse,
    soap.parseNodoInviaCarrelloRPTResponse,
  );
  const key = { ...credentials, domainId: '77777777777', iuv: '02000000000012345', ccp: 'n/a' };
  add(
    'nodoChiediStatoRPT request',
    key,
    soap.buildNodoChiediStatoRPTRequest,
    soap.parseNodoChiediStatoRPTRequest,
  );
  add(
    'nodoChiediCopiaRT request',
    key,
    soap.buildNodoChiediCopiaRTRequest,
    soap.parseNodoChiediCopiaRTRequest,
  );
  add(
    'nodoChiediListaPendentiRPT request',
    { ...credentials, from: '2024-03-01T00:00:00', maxResults: 10 },
    soap.buildNodoChiediListaPendentiRPTRequest,
    soap.parseNodoChiediListaPendentiRPTRequest,
  );
  add(
    'nodoChiediElencoFlussi request',
    { ...credentials, pspId: 'BCITITMM' },
    soap.buildNodoChiediElencoFlussiRequest,
    soap.parseNodoChiediElencoFlussiRequest,
  );
  add(
    'nodoChiediFlusso request',
    { ...credentials, flowId: 'F-1' },
    soap.buildNodoChiediFlussoRequest,
    soap.parseNodoChiediFlussoRequest,
  );

  it.each(cases)('%s', (_name, actual, expected) => {
    expect(actual()).toEqual(expected());
  });

  it('children of the body wrapper are unqualified and enteBeneficiario children are qualified', () => {
    const xml = soap.buildPaaVerificaRPTResponse({
      outcome: 'OK',
      paymentData: {
        amountCents: 1,
        creditIban: 'IT60X0542811101000000123456',
        creditor: { taxCode: '77777777777', name: 'C' },
        remittance: { kind: 'text', text: 'x' },
      },
    });
    expect(xml).toContain(
      '<ppt:paaVerificaRPTRisposta xmlns:ppt="http://ws.pagamenti.telematici.gov/"><paaVerificaRPTRisposta><esito>OK</esito>',
    );
    expect(xml).toContain(
      '<enteBeneficiario xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"><pay_i:identificativoUnivocoBeneficiario>',
    );
  });

  it('refuses a cart of 0 or 6 RPTs and a short password on input', () => {
    const base = {
      header: { brokerId: 'b', stationId: 's', cartId: 'c' },
      password: credentials.password,
      ...route,
    };
    expect(codeOf(() => soap.buildNodoInviaCarrelloRPTRequest({ ...base, items: [] }))).toBe(
      'invalid-input',
    );
    const item = { domainId: 'd', iuv: 'i', ccp: 'c', rptXml };
    expect(
      codeOf(() => soap.buildNodoInviaCarrelloRPTRequest({ ...base, items: Array(6).fill(item) })),
    ).toBe('invalid-input');
    const shortPwd = soap.buildNodoChiediCopiaRTRequest({ ...key, password: 'short' });
    expect(codeOf(() => soap.parseNodoChiediCopiaRTRequest(shortPwd))).toBe('xml-schema-invalid');
  });
});
