import type { Principal } from './tokens.js';

/** A configured secret (config/secrets.ts `Secret` satisfies it); revealed only where it is compared or used. */
export interface SecretValue {
  reveal(): string;
}

/** What every configured SCIM credential may do, whatever its authentication method. */
export interface CredentialScope {
  readonly id: string;
  readonly readOnly: boolean;
  /** Sources the credential may use; null means every configured source. */
  readonly sources: readonly string[] | null;
  /** Source of requests without a `{baseEntity}`: the configured one, or the only allowed source, else null. */
  readonly defaultSource: string | null;
}

export interface BearerCredential extends CredentialScope {
  readonly type: 'bearer';
  readonly token: SecretValue;
}

export interface BasicCredential extends CredentialScope {
  readonly type: 'basic';
  readonly username: string;
  readonly password: SecretValue;
}

export type JwtKey =
  | { readonly kind: 'secret'; readonly secret: SecretValue }
  | { readonly kind: 'publicKey'; readonly pem: SecretValue }
  | { readonly kind: 'jwks'; readonly url: string };

export interface JwtCredential extends CredentialScope {
  readonly type: 'jwt';
  readonly issuer: string;
  readonly audience: string;
  readonly key: JwtKey;
  /** JWS algorithms accepted for this credential (never `none`). */
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
}

export interface OAuth2Credential extends CredentialScope {
  readonly type: 'oauth2';
  readonly clientId: string;
  readonly clientSecret: SecretValue;
  readonly tokenLifetimeSeconds: number;
}

/** A SCIM credential from tether.yaml `scimAuth`. */
export type ScimCredential = BearerCredential | BasicCredential | JwtCredential | OAuth2Credential;

/**
 * The principal of a request authenticated by a configured credential. The token id names the credential,
 * never its secret, so audit entries say which credential acted.
 */
export function credentialPrincipal(credential: CredentialScope): Principal {
  return {
    tokenId: `scim_cred:${credential.id}`,
    kind: 'scim',
    role: null,
    sourceId: credential.defaultSource,
    sourceIds: credential.sources,
    readOnly: credential.readOnly,
  };
}
