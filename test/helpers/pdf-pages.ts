/**
 * Reads a PDF back for tests: the text of each page and a greyscale raster of it, through MuPDF
 * (WASM, no native install) in a child process (see pdf-pages.worker.mjs for why).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface PdfPage {
  /** The page's text in reading order, lines separated by "\n". */
  readonly text: string;
  readonly width: number;
  readonly height: number;
  /** One byte per pixel, 0 = black, row-major, no padding. */
  readonly grey: Uint8ClampedArray;
}

const worker = path.join(__dirname, 'pdf-pages.worker.mjs');

export function readPdfPages(pdf: Buffer, dpi = 150): PdfPage[] {
  const out = execFileSync(process.execPath, [worker, String(dpi)], {
    input: pdf,
    maxBuffer: 512 * 1024 * 1024,
    timeout: 60_000,
  });
  const parsed = JSON.parse(out.toString('utf8')) as {
    pages: Array<{ text: string; width: number; height: number; grey: string }>;
  };
  return parsed.pages.map((p) => ({
    text: p.text,
    width: p.width,
    height: p.height,
    grey: new Uint8ClampedArray(Buffer.from(p.grey, 'base64')),
  }));
}

/** The RGBA image jsQR expects, from a greyscale raster (optionally a crop of it). */
export function greyToRgba(page: PdfPage): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(page.width * page.height * 4);
  for (let i = 0; i < page.grey.length; i++) {
    const v = page.grey[i] ?? 255;
    rgba[i * 4] = v;
    rgba[i * 4 + 1] = v;
    rgba[i * 4 + 2] = v;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/** A rectangle of a raster, as a new raster (coordinates in pixels, clamped to the page). */
export function crop(
  page: PdfPage,
  box: { x: number; y: number; width: number; height: number },
): PdfPage {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const width = Math.min(page.width - x0, Math.ceil(box.width));
  const height = Math.min(page.height - y0, Math.ceil(box.height));
  const grey = new Uint8ClampedArray(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * page.width + x0;
    grey.set(page.grey.subarray(from, from + width), y * width);
  }
  return { text: '', width, height, grey };
}
