import { Body, Button, Container, Head, Heading, Html, Preview, Text } from '@react-email/components';

export interface WelcomeProps {
  name: string;
  loginUrl: string;
}

/** The preview's sample, and what renders when no props are given (react-email's `email export`). */
const sample = { name: 'Núria Puigdomènech 🎉', loginUrl: 'https://example.com/login' } satisfies WelcomeProps;

export default function Welcome({ name = sample.name, loginUrl = sample.loginUrl }: Partial<WelcomeProps>) {
  return (
    <Html lang="en">
      <Head />
      <Preview>Welcome aboard, {name}</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif', backgroundColor: '#f6f6f6' }}>
        <Container style={{ backgroundColor: '#ffffff', padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">Welcome, {name}!</Heading>
          <Text>Your account is ready. Sign in to finish setting it up.</Text>
          <Button href={loginUrl} style={{ backgroundColor: '#2754c5', color: '#ffffff', padding: '12px 20px' }}>
            Sign in
          </Button>
        </Container>
      </Body>
    </Html>
  );
}

Welcome.PreviewProps = sample;
