import { Body, Column, Container, Head, Heading, Hr, Html, Preview, Row, Section, Text } from '@react-email/components';
import { useT } from './_locales/i18n.js';

export interface InvoiceLine {
  description: string;
  amount: number;
}

export interface InvoiceProps {
  customer: string;
  number: string;
  currency: string;
  lines: InvoiceLine[];
  /** When it was issued, shown in the reader's language. */
  issued?: Date;
}

export const invoiceTotal = (lines: InvoiceLine[]) => lines.reduce((sum, line) => sum + line.amount, 0);

/** The preview's sample, and what renders when no props are given (react-email's `email export`). */
const sample = {
  customer: 'Cafè de l’Òpera',
  number: 'F-2026-0042',
  currency: 'EUR',
  lines: [
    { description: 'Subscripció anual ☕', amount: 120 },
    { description: 'Suport prioritari', amount: 30.5 },
  ],
  issued: new Date('2026-03-05T12:00:00Z'),
} satisfies InvoiceProps;

export default function Invoice({
  customer = sample.customer,
  number = sample.number,
  currency = sample.currency,
  lines = sample.lines,
  issued = sample.issued,
}: Partial<InvoiceProps>) {
  const t = useT();
  // Intl in the message's locale: "€120.00", "120,00 €", "١٢٠٫٠٠ €", "€120.00" (ja).
  const money = (amount: number) => t.currency(amount, currency);
  const total = money(invoiceTotal(lines));
  // The amount column sits at the line's end: right in English, left in Arabic.
  const end = t.dir === 'rtl' ? 'left' : 'right';
  return (
    <Html lang={t.locale} dir={t.dir}>
      <Head />
      <Preview>{t('invoice.preview', { number, total })}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <Container dir={t.dir} style={{ padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">{t('invoice.heading', { number })}</Heading>
          <Text>{t('invoice.greeting', { customer })}</Text>
          <Text>{t('invoice.issued', { issued })}</Text>
          <Section>
            {lines.map((line, i) => (
              <Row key={i}>
                <Column>{line.description}</Column>
                <Column align={end}>{money(line.amount)}</Column>
              </Row>
            ))}
          </Section>
          <Hr />
          <Text style={{ fontWeight: 'bold' }}>{t('invoice.total', { total })}</Text>
        </Container>
      </Body>
    </Html>
  );
}

Invoice.PreviewProps = sample;
