import fc from 'fast-check';

/**
 * at: texts from 1970-01-01T00:00:00 to 9999-12-31T23:59:59; a third of them within two days of
 * either end, where zone offsets carry the instant outside the range.
 */
export const localDateTimes = fc
  .oneof(
    ...[
      ['1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z'],
      ['1970-01-01T00:00:00Z', '1970-01-02T23:59:59Z'],
      ['9999-12-30T00:00:00Z', '9999-12-31T23:59:59Z'],
    ].map(([min, max]) =>
      fc.date({ min: new Date(min!), max: new Date(max!), noInvalidDate: true }),
    ),
  )
  .map((date) => `at:${date.toISOString().slice(0, 19)}`);
