import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';

/**
 * An independent DKIM verifier: Debian's python3-dkim (dkimpy), run by the system Python
 * (/usr/bin/python3; a pyenv or venv python first on PATH would not see Debian's module).
 * Its DNS lookup is replaced by the records the test publishes, so verification is real
 * (body hash, header canonicalization, RSA signature) without a DNS server.
 */

export const PYTHON = process.env.MAILROOM_TEST_PYTHON ?? '/usr/bin/python3';

const VERIFY = `
import base64, json, sys, dkim
request = json.load(sys.stdin)
records = {name.lower().rstrip('.'): txt for name, txt in request['records'].items()}
def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode('ascii')
    txt = records.get(name.lower().rstrip('.'))
    return txt.encode('ascii') if txt is not None else None
out = []
for message in request['messages']:
    raw = base64.b64decode(message)
    verifier = dkim.DKIM(raw)
    signatures = [value for name, value in verifier.headers if name.lower() == b'dkim-signature']
    results = []
    for index in range(len(signatures)):
        try:
            ok = bool(verifier.verify(idx=index, dnsfunc=dnsfunc))
        except Exception as error:
            ok = False
        tags = dkim.util.parse_tag_value(b''.join(signatures[index].split()))
        results.append({'ok': ok, 'd': tags[b'd'].decode(), 's': tags[b's'].decode(), 'h': tags[b'h'].decode()})
    out.append(results)
print(json.dumps(out))
`;

/** Whether the verifier can run here (python3-dkim installed for the system Python). */
export function dkimVerifierAvailable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import dkim'], { encoding: 'utf8' });
  return probe.status === 0;
}

export interface SignatureCheck {
  ok: boolean;
  /** d= */
  d: string;
  /** s= */
  s: string;
  /** h=: the signed header names. */
  h: string;
}

/** Verifies every DKIM-Signature of each message against `records` (`selector._domainkey.domain` → TXT). */
export function verifyDkim(messages: Buffer[], records: Record<string, string>): SignatureCheck[][] {
  const run = spawnSync(PYTHON, ['-c', VERIFY], {
    input: JSON.stringify({ records, messages: messages.map((m) => m.toString('base64')) }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`dkimpy failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as SignatureCheck[][];
}

/** A fresh RSA key pair: the private key as PEM, and its DNS TXT record (`v=DKIM1; k=rsa; p=…`). */
export function dkimKeyPair(bits = 2048): { privateKey: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), record: `v=DKIM1; k=rsa; p=${der.toString('base64')}` };
}
