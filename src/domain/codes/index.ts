/** Identifiers and amounts of pagoPA: pure functions, no I/O. */
export * from './money';
export * from './notice-number';
export * from './rf';
export * from './card-code';
export * from './payment-notice-codes';
export { decimalStringMod, mod93CheckDigits, iso7064Mod97CheckDigits } from './check-digits';
