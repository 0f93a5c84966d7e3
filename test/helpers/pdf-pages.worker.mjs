/**
 * Child process for test/helpers/pdf-pages.ts: reads a PDF on stdin and writes, as JSON on stdout,
 * each page's text and its greyscale raster at the dpi given as argv[2].
 *
 * Why a separate process: mupdf is an ES module with top-level await (it instantiates WASM), which
 * Jest's CommonJS runtime cannot load without --experimental-vm-modules.
 */
import { Buffer } from 'node:buffer';
import process from 'node:process';
import * as mupdf from 'mupdf';

const dpi = Number(process.argv[2] ?? '150');
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);

const document = mupdf.Document.openDocument(Buffer.concat(chunks), 'application/pdf');
const scale = dpi / 72;
const pages = [];
for (let i = 0; i < document.countPages(); i++) {
  const page = document.loadPage(i);
  const text = page.toStructuredText('preserve-whitespace').asText();
  const pixmap = page.toPixmap(
    mupdf.Matrix.scale(scale, scale),
    mupdf.ColorSpace.DeviceGray,
    false,
  );
  const width = pixmap.getWidth();
  const height = pixmap.getHeight();
  const stride = pixmap.getStride();
  const samples = pixmap.getPixels();
  // Rows may be padded: copy them into a tight width x height buffer.
  const grey = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    grey.set(samples.subarray(y * stride, y * stride + width), y * width);
  }
  pages.push({ text, width, height, grey: grey.toString('base64') });
}
process.stdout.write(JSON.stringify({ pages }));
