import { Body, Container, Head, Heading, Html, Link, Preview, Text } from '@react-email/components';

export interface PasswordResetProps {
  name: string;
  resetUrl: string;
  expiresInMinutes: number;
}

export default function PasswordReset({ name, resetUrl, expiresInMinutes }: PasswordResetProps) {
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

PasswordReset.PreviewProps = {
  name: 'Jordi Mañé',
  resetUrl: 'https://example.com/reset/abc123',
  expiresInMinutes: 30,
} satisfies PasswordResetProps;
