/**
 * Shortens untrusted input before it goes into an error message, so that a megabyte of garbage
 * cannot become a megabyte of log line.
 */
export const shown = (text: string, lengthMax = 40): string =>
  text.length > lengthMax ? `${text.slice(0, lengthMax)}…` : text;
