/**
 * What a treasury movement's causale refers to (PAGOPA.md §11):
 * - `/PUR/LGPE-RIVERSAMENTO/URI/<identificativoFlusso>` (and GovPay's `/PUR/LGPE-RIVERSAMENTO/TXT/<n>/URI/<id>`):
 *   a PSP's cumulative transfer for one reporting flow;
 * - `/RFB/<IUV>` and `/RFS/<RF creditor reference>`: a single payment's own transfer.
 *
 * Why the separators are any character: banks' statements often replace `/` with a space or a
 * dot, as GovPay's IncassoUtils regexes (`PUR.LGPE-RIVERSAMENTO.(TXT.[0-9]{1}.)?URI.(id)`) allow.
 */
export type CausaleRef =
  | { readonly kind: 'flow'; readonly flowId: string }
  | { readonly kind: 'single'; readonly form: 'RFB' | 'RFS'; readonly iuv: string }
  | { readonly kind: 'none' };

const FLOW = /PUR.LGPE-RIVERSAMENTO.(?:TXT.[0-9].)?URI.([0-9A-Za-z\-_]{1,35})/i;
const SINGLE = /(?:^|[^A-Za-z])(RF[SB]).([0-9A-Za-z\-_]{1,35})/;

/** Reads the reference out of a causale; `none` when it names neither a flow nor a payment. */
export function parseCausale(causale: string): CausaleRef {
  const flow = FLOW.exec(causale);
  if (flow?.[1] !== undefined) return { kind: 'flow', flowId: flow[1] };
  const single = SINGLE.exec(causale);
  if (single?.[1] !== undefined && single[2] !== undefined) {
    return { kind: 'single', form: single[1] === 'RFB' ? 'RFB' : 'RFS', iuv: single[2] };
  }
  return { kind: 'none' };
}
