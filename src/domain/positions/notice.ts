import { makeNoticeNumber, parseNoticeNumber } from '../codes/notice-number';

/**
 * How a domain numbers its notices (PAGOPA.md §7): aux digit 3 with its segregation code (IUV of
 * 17 digits), or aux digit 0 with its application code (IUV of 15 digits).
 */
export type NoticeScheme =
  { auxDigit: 3; segregationCode: string } | { auxDigit: 0; applicationCode: string };

/**
 * The IUV and the 18-digit notice number (NAV) made from an allocated 13-digit base.
 * @throws AppError('invalid-input') when the base or the code is malformed.
 */
export function noticeFor(
  scheme: NoticeScheme,
  base: string,
): { iuv: string; noticeNumber: string } {
  const noticeNumber = makeNoticeNumber({ ...scheme, base });
  return { iuv: parseNoticeNumber(noticeNumber).iuv, noticeNumber };
}
