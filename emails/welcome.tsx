import { Body, Button, Container, Head, Heading, Html, Preview, Text } from '@react-email/components';
import { useT } from './_locales/i18n.js';

export interface WelcomeProps {
  name: string;
  loginUrl: string;
}

/** The preview's sample, and what renders when no props are given (react-email's `email export`). */
const sample = { name: 'Núria Puigdomènech 🎉', loginUrl: 'https://example.com/login' } satisfies WelcomeProps;

export default function Welcome({ name = sample.name, loginUrl = sample.loginUrl }: Partial<WelcomeProps>) {
  const t = useT();
  return (
    <Html lang={t.locale} dir={t.dir}>
      <Head />
      <Preview>{t('welcome.preview', { name })}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif', backgroundColor: '#f6f6f6' }}>
        {/* dir on the container too: webmail drops <html>'s attributes; text-align follows dir */}
        <Container dir={t.dir} style={{ backgroundColor: '#ffffff', padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">{t('welcome.heading', { name })}</Heading>
          <Text>{t('welcome.body')}</Text>
          <Button href={loginUrl} style={{ backgroundColor: '#2754c5', color: '#ffffff', padding: '12px 20px' }}>
            {t('welcome.button')}
          </Button>
        </Container>
      </Body>
    </Html>
  );
}

Welcome.PreviewProps = sample;
