import { Body, Column, Container, Head, Heading, Hr, Html, Preview, Row, Section, Text } from '@react-email/components';

export interface InvoiceLine {
  description: string;
  amount: number;
}

export interface InvoiceProps {
  customer: string;
  number: string;
  currency: string;
  lines: InvoiceLine[];
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
} satisfies InvoiceProps;

export default function Invoice({
  customer = sample.customer,
  number = sample.number,
  currency = sample.currency,
  lines = sample.lines,
}: Partial<InvoiceProps>) {
  const money = (amount: number) => `${amount.toFixed(2)} ${currency}`;
  return (
    <Html lang="en">
      <Head />
      <Preview>Invoice {number}: {money(invoiceTotal(lines))}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <Container style={{ padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">Invoice {number}</Heading>
          <Text>Hello {customer}, thank you for your order. The invoice is attached as a PDF.</Text>
          <Section>
            {lines.map((line, i) => (
              <Row key={i}>
                <Column>{line.description}</Column>
                <Column align="right">{money(line.amount)}</Column>
              </Row>
            ))}
          </Section>
          <Hr />
          <Text style={{ fontWeight: 'bold' }}>Total: {money(invoiceTotal(lines))}</Text>
        </Container>
      </Body>
    </Html>
  );
}

Invoice.PreviewProps = sample;
