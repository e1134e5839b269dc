import { Body, Container, Head, Heading, Html, Link, Preview, Text } from '@react-email/components';
import { useT } from './_locales/i18n.js';

export interface PasswordResetProps {
  name: string;
  resetUrl: string;
  expiresInMinutes: number;
}

/** The preview's sample, and what renders when no props are given (react-email's `email export`). */
const sample = {
  name: 'Jordi Mañé',
  resetUrl: 'https://example.com/reset/abc123',
  expiresInMinutes: 30,
} satisfies PasswordResetProps;

export default function PasswordReset({
  name = sample.name,
  resetUrl = sample.resetUrl,
  expiresInMinutes = sample.expiresInMinutes,
}: Partial<PasswordResetProps>) {
  const t = useT();
  return (
    <Html lang={t.locale} dir={t.dir}>
      <Head />
      <Preview>{t('password-reset.subject')}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <Container dir={t.dir} style={{ padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">{t('password-reset.heading')}</Heading>
          <Text>{t('password-reset.greeting', { name })}</Text>
          <Link href={resetUrl}>{t('password-reset.link')}</Link>
          <Text>{t('password-reset.expiry', { minutes: expiresInMinutes })}</Text>
        </Container>
      </Body>
    </Html>
  );
}

PasswordReset.PreviewProps = sample;
