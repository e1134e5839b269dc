import type { InvoiceProps } from '../invoice.js';
import { invoiceTotal } from '../invoice.js';

/**
 * A one-page PDF of the invoice, enough for the example app (a real app would use
 * its PDF library). Built by hand: header, one text stream, cross-reference table.
 */
export function invoicePdf({ customer, number, currency, lines }: InvoiceProps): Buffer {
  // Standard fonts speak Latin-1 only: keep what it can show, replace the rest.
  const latin1 = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?').replace(/[()\\]/g, (c) => `\\${c}`);
  const text = [
    `Invoice ${number}`,
    `Customer: ${customer}`,
    ...lines.map((l) => `${l.description}: ${l.amount.toFixed(2)} ${currency}`),
    `Total: ${invoiceTotal(lines).toFixed(2)} ${currency}`,
  ];
  const stream = `BT /F1 14 Tf 72 760 Td 18 TL ${text.map((t) => `(${latin1(t)}) '`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let pdf = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
