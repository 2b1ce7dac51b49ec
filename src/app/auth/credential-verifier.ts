import { credentialPrincipal, type OAuth2Credential, type ScimCredential } from './credentials.js';
import { digestsEqual, secretDigest } from './secret-digest.js';
import type { Principal } from './tokens.js';

/** Checks presented secrets against the configured SCIM credentials (tether.yaml `scimAuth`). */
export interface CredentialVerifier {
  /** Whether any credential of the type is configured (drives WWW-Authenticate and the JWT attempt). */
  has(type: ScimCredential['type']): boolean;
  /** A static bearer token from the config. */
  bearer(token: string): Principal | null;
  /** HTTP Basic user and password. */
  basic(username: string, password: string): Principal | null;
  /** OAuth2 client authentication at the token endpoint. */
  client(clientId: string, clientSecret: string): OAuth2Credential | null;
  /** The principal of an access token issued to `credentialId`, while that oauth2 credential still exists. */
  accessTokenPrincipal(credentialId: string): Principal | null;
}

interface Entry<C> {
  readonly credential: C;
  readonly name: Buffer;
  readonly secret: Buffer;
}

/**
 * Only digests of the secrets are kept. Every candidate is compared, matching or not, so the response
 * time does not reveal which credential (or whether any) came close.
 */
export function createCredentialVerifier(credentials: readonly ScimCredential[]): CredentialVerifier {
  const bearer: Entry<ScimCredential>[] = [];
  const basic: Entry<ScimCredential>[] = [];
  const clients: Entry<OAuth2Credential>[] = [];
  const issuers = new Map<string, OAuth2Credential>();
  for (const credential of credentials) {
    switch (credential.type) {
      case 'bearer':
        bearer.push({ credential, name: Buffer.alloc(0), secret: secretDigest(credential.token.reveal()) });
        break;
      case 'basic':
        basic.push({ credential, name: secretDigest(credential.username), secret: secretDigest(credential.password.reveal()) });
        break;
      case 'oauth2':
        clients.push({ credential, name: secretDigest(credential.clientId), secret: secretDigest(credential.clientSecret.reveal()) });
        issuers.set(credential.id, credential);
        break;
      case 'jwt':
        break;
    }
  }
  const types = new Set(credentials.map((credential) => credential.type));
  return {
    has: (type) => types.has(type),
    bearer(token) {
      const found = findMatch(bearer, Buffer.alloc(0), secretDigest(token));
      return found === null ? null : credentialPrincipal(found);
    },
    basic(username, password) {
      const found = findMatch(basic, secretDigest(username), secretDigest(password));
      return found === null ? null : credentialPrincipal(found);
    },
    client: (clientId, clientSecret) => findMatch(clients, secretDigest(clientId), secretDigest(clientSecret)),
    accessTokenPrincipal(credentialId) {
      const credential = issuers.get(credentialId);
      return credential === undefined ? null : credentialPrincipal(credential);
    },
  };
}

function findMatch<C>(entries: readonly Entry<C>[], name: Buffer, secret: Buffer): C | null {
  let found: C | null = null;
  for (const entry of entries) {
    const nameMatches = digestsEqual(entry.name, name);
    const secretMatches = digestsEqual(entry.secret, secret);
    if (nameMatches && secretMatches && found === null) found = entry.credential;
  }
  return found;
}
