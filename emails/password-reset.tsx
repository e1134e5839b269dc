import { Body, Container, Head, Heading, Html, Link, Preview, Text } from '@react-email/components';

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
  return (
    <Html lang="en">
      <Head />
      <Preview>Reset your password</Preview>
      <Body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <Container style={{ padding: '24px', maxWidth: '560px' }}>
          <Heading as="h1">Reset your password</Heading>
          <Text>Hi {name}, someone asked to reset the password of your account.</Text>
          <Link href={resetUrl}>Choose a new password</Link>
          <Text>The link expires in {expiresInMinutes} minutes. If it was not you, ignore this email.</Text>
        </Container>
      </Body>
    </Html>
  );
}

PasswordReset.PreviewProps = sample;
