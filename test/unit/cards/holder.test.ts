import { AppError } from '../../../src/domain/errors';
import {
  normaliseFiscalCode,
  normaliseFullName,
  sameHolder,
  toHolder,
} from '../../../src/domain/cards/holder';

describe('card holder', () => {
  test.each([
    ['RSSMRA85T10A562S', 'RSSMRA85T10A562S'],
    ['rssmra85t10a562s', 'RSSMRA85T10A562S'],
    ['  RSSMRA85T10A562S ', 'RSSMRA85T10A562S'],
    // Omocodia: digits replaced by L M N P Q R S T U V when two people would share a code.
    ['RSSMRA85T10A56NS', 'RSSMRA85T10A56NS'],
    ['RSSMRAURTMLARSNS', 'RSSMRAURTMLARSNS'],
    ['80000000001', '80000000001'],
  ])('the fiscal code %p is accepted as %p', (input, expected) => {
    expect(normaliseFiscalCode(input)).toBe(expected);
  });

  test.each([
    ['', 'empty'],
    ['RSSMRA85T10A562', '15 characters'],
    ['RSSMRA85T10A562SX', '17 characters'],
    ['RSSMRA85Z10A562S', 'Z is not a month letter'],
    ['RSSMRA8AT10A562S', 'A is not an omocodia letter'],
    ['1SSMRA85T10A562S', 'a digit among the surname letters'],
    ['RSSMRA85T10A562-', 'a punctuation mark'],
    ['8000000000', '10 digits'],
    ['800000000011', '12 digits'],
  ])('the fiscal code %p is refused (%s)', (input) => {
    expect(normaliseFiscalCode(input)).toBeNull();
  });

  test('a holder is stored upper-cased with single spaces in the name', () => {
    expect(toHolder({ fiscalCode: 'rssmra85t10a562s', fullName: '  Rossi   Mario ' })).toEqual({
      fiscalCode: 'RSSMRA85T10A562S',
      fullName: 'Rossi Mario',
    });
    expect(normaliseFullName('Anna\tMaria  Verdi')).toBe('Anna Maria Verdi');
  });

  test('a bad fiscal code is invalid input, and the error does not repeat it', () => {
    let caught: unknown;
    try {
      toHolder({ fiscalCode: 'RSSMRA85T10A56', fullName: 'Rossi Mario' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('invalid-input');
    expect((caught as AppError).message).not.toContain('RSSMRA85T10A56');
  });

  test('a blank or too long name is invalid input', () => {
    expect(() => toHolder({ fiscalCode: '80000000001', fullName: '   ' })).toThrow(AppError);
    expect(() => toHolder({ fiscalCode: '80000000001', fullName: 'x'.repeat(71) })).toThrow(
      /1 to 70/,
    );
  });

  test('two holders are the same when fiscal code and normalised name match', () => {
    const a = toHolder({ fiscalCode: 'rssmra85t10a562s', fullName: 'Rossi  Mario' });
    expect(
      sameHolder(a, toHolder({ fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' })),
    ).toBe(true);
    expect(
      sameHolder(a, toHolder({ fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Maria' })),
    ).toBe(false);
    expect(
      sameHolder(a, toHolder({ fiscalCode: 'VRDNNA90A41D612X', fullName: 'Rossi Mario' })),
    ).toBe(false);
  });
});
