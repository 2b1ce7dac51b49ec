/**
 * A SAML 2.0 identity provider for tests, in the test process: it signs real responses (xml-crypto,
 * RSA-SHA256, exclusive c14n) with a generated key and self-signed certificate, and can also produce
 * every kind of bad response an SP must refuse (unsigned, signed with another key, expired, wrong
 * audience, SHA-1, signature-wrapped). Over HTTP it answers AuthnRequests with an auto-posting form, as
 * Okta or Entra ID do, for browser tests.
 */
import { createSign, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import { freePort } from './ports.js';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export async function generateKeyPair(commonName: string): Promise<KeyPair> {
  const pems = await generate([{ name: 'commonName', value: commonName }], { keySize: 2048, algorithm: 'sha256' });
  return { key: pems.private, cert: pems.cert };
}

export interface AuthnRequestInfo {
  readonly id: string;
  readonly acsUrl: string;
  readonly issuer: string;
  readonly relayState: string | null;
}

export interface ResponseOptions {
  readonly inResponseTo: string | null;
  readonly acsUrl: string;
  readonly audience: string;
  readonly nameId: string;
  readonly groups: readonly string[];
  /** Defaults to the IdP's entity id. */
  readonly issuer?: string;
  /** Which elements carry a signature (default: the assertion only, as most IdPs sign by default). */
  readonly sign?: 'assertion' | 'response' | 'both' | 'none';
  /** Sign with this key instead of the IdP's (a forged signature that verifies against nothing trusted). */
  readonly signWith?: KeyPair;
  readonly sha1?: boolean;
  /** Shift every timestamp by this much (negative = in the past: an expired response). */
  readonly shiftMs?: number;
  readonly assertionId?: string;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Decodes an HTTP-Redirect binding AuthnRequest (base64 of raw DEFLATE) from a URL. */
export function parseAuthnRequest(location: string): AuthnRequestInfo {
  const url = new URL(location);
  const encoded = url.searchParams.get('SAMLRequest');
  if (encoded === null) throw new Error(`no SAMLRequest in ${location}`);
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  const acsUrl = /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)?.[1];
  const issuer = /<(?:saml2?:)?Issuer[^>]*>([^<]+)</.exec(xml)?.[1];
  if (id === undefined || acsUrl === undefined || issuer === undefined) throw new Error(`unexpected AuthnRequest: ${xml}`);
  return { id, acsUrl, issuer, relayState: url.searchParams.get('RelayState') };
}

export interface LogoutRequestInfo {
  readonly id: string;
  readonly nameId: string;
  readonly sessionIndex: string | null;
  readonly issuer: string;
  readonly relayState: string | null;
  /** Whether the redirect carried a Signature over its query string. */
  readonly signed: boolean;
}

/** Reads the LogoutRequest an SP sends to the IdP's SingleLogoutService (HTTP-Redirect binding). */
export function parseLogoutRequest(location: string): LogoutRequestInfo {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
  const pick = (pattern: RegExp) => pattern.exec(xml)?.[1] ?? null;
  return {
    id: pick(/<(?:\w+:)?LogoutRequest[^>]*\sID="([^"]+)"/) ?? '',
    nameId: pick(/<(?:\w+:)?NameID[^>]*>([^<]+)</) ?? '',
    sessionIndex: pick(/<(?:\w+:)?SessionIndex>([^<]+)</),
    issuer: pick(/<(?:\w+:)?Issuer[^>]*>([^<]+)</) ?? '',
    relayState: url.searchParams.get('RelayState'),
    signed: url.searchParams.has('Signature'),
  };
}

export class TestIdp {
  readonly keys: KeyPair;
  #server: Server | null = null;
  #port = 0;
  /** Publish a SingleLogoutService (HTTP-Redirect) in the metadata, as IdPs that support single logout do. */
  singleLogout = false;
  /** Who signs in when a browser arrives at the SSO endpoint. */
  user: { nameId: string; groups: string[] } = { nameId: 'admin@example.com', groups: ['Tether Admins'] };
  /** The audience the IdP puts in responses to browsers (the SP entity id). */
  audience = '';
  readonly requests: AuthnRequestInfo[] = [];

  private constructor(keys: KeyPair) {
    this.keys = keys;
  }

  static async create(): Promise<TestIdp> {
    return new TestIdp(await generateKeyPair('tether-test-idp'));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get entityId(): string {
    return `${this.baseUrl}/metadata`;
  }

  get ssoUrl(): string {
    return `${this.baseUrl}/sso`;
  }

  /** IdP metadata as Okta and Entra ID publish it: entity id, signing certificate, redirect SSO endpoint. */
  metadata(): string {
    const body = this.keys.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${this.entityId}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${this.ssoUrl}"/>${this.singleLogout ? `
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.baseUrl}/slo"/>` : ''}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** An unsigned assertion element. */
  assertion(options: ResponseOptions, id: string): string {
    const now = Date.now() + (options.shiftMs ?? 0);
    const issuer = options.issuer ?? this.entityId;
    const confirmation = options.inResponseTo === null ? '' : ` InResponseTo="${options.inResponseTo}"`;
    const attributes = options.groups.map((group) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(group)}</saml:AttributeValue>`).join('');
    return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${id}" Version="2.0" IssueInstant="${iso(new Date(now))}">`
      + `<saml:Issuer>${escapeXml(issuer)}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${escapeXml(options.nameId)}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${confirmation} NotOnOrAfter="${iso(new Date(now + 5 * 60_000))}" Recipient="${escapeXml(options.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${iso(new Date(now - 60_000))}" NotOnOrAfter="${iso(new Date(now + 5 * 60_000))}"><saml:AudienceRestriction><saml:Audience>${escapeXml(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + `<saml:AuthnStatement AuthnInstant="${iso(new Date(now))}" SessionIndex="_session_${id}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + `<saml:AttributeStatement><saml:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${attributes}</saml:Attribute></saml:AttributeStatement>`
      + `</saml:Assertion>`;
  }

  /** A complete Response document (XML, not yet base64). */
  responseXml(options: ResponseOptions): string {
    const sign = options.sign ?? 'assertion';
    const keys = options.signWith ?? this.keys;
    const assertionId = options.assertionId ?? `_a${randomUUID().replace(/-/g, '')}`;
    let assertion = this.assertion(options, assertionId);
    if (sign === 'assertion' || sign === 'both') assertion = signElement(assertion, 'Assertion', keys, options.sha1 === true);
    const now = Date.now() + (options.shiftMs ?? 0);
    const inResponseTo = options.inResponseTo === null ? '' : ` InResponseTo="${options.inResponseTo}"`;
    let response = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID().replace(/-/g, '')}" Version="2.0" IssueInstant="${iso(new Date(now))}" Destination="${escapeXml(options.acsUrl)}"${inResponseTo}>`
      + `<saml:Issuer>${escapeXml(options.issuer ?? this.entityId)}</saml:Issuer>`
      + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
      + assertion
      + `</samlp:Response>`;
    if (sign === 'response' || sign === 'both') response = signElement(response, 'Response', keys, options.sha1 === true);
    return response;
  }

  response(options: ResponseOptions): string {
    return Buffer.from(this.responseXml(options)).toString('base64');
  }

  /**
   * XML signature wrapping: a correctly signed assertion for `victim` is kept (so the signature still
   * verifies) but moved inside an unsigned, forged assertion that claims `attacker` with admin groups.
   */
  wrappedResponse(options: ResponseOptions, forged: { nameId: string; groups: readonly string[] }, placement: 'extensions' | 'nested'): string {
    const assertionId = `_a${randomUUID().replace(/-/g, '')}`;
    const signed = signElement(this.assertion(options, assertionId), 'Assertion', this.keys, false);
    const evilId = placement === 'nested' ? `_evil${randomUUID().replace(/-/g, '')}` : assertionId;
    const evil = this.assertion({ ...options, ...forged }, evilId);
    const now = Date.now();
    const head = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID().replace(/-/g, '')}" Version="2.0" IssueInstant="${iso(new Date(now))}" Destination="${escapeXml(options.acsUrl)}" InResponseTo="${options.inResponseTo ?? ''}">`
      + `<saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer>`;
    const status = `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`;
    const xml = placement === 'extensions'
      ? `${head}<samlp:Extensions>${signed}</samlp:Extensions>${status}${evil}</samlp:Response>`
      : `${head}${status}${evil.replace('</saml:Subject>', `</saml:Subject><saml:Advice>${signed}</saml:Advice>`)}</samlp:Response>`;
    return Buffer.from(xml).toString('base64');
  }

  /**
   * The IdP's answer to an SP's LogoutRequest (HTTP-Redirect binding): a LogoutResponse to `returnUrl`,
   * deflated, with the query string signed RSA-SHA256 by the IdP key (SAML bindings §3.4.4.1). `signWith`
   * another key to forge one.
   */
  logoutResponseUrl(request: LogoutRequestInfo, returnUrl: string, signWith: KeyPair = this.keys): string {
    const xml = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr${randomUUID().replace(/-/g, '')}" Version="2.0" IssueInstant="${iso(new Date())}" Destination="${escapeXml(returnUrl)}" InResponseTo="${escapeXml(request.id)}">`
      + `<saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer>`
      + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
    let query = `SAMLResponse=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
    if (request.relayState !== null) query += `&RelayState=${encodeURIComponent(request.relayState)}`;
    query += `&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
    const signature = createSign('RSA-SHA256').update(query).sign(signWith.key, 'base64');
    return `${returnUrl}?${query}&Signature=${encodeURIComponent(signature)}`;
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', this.baseUrl);
      if (url.pathname === '/metadata') {
        response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(this.metadata());
        return;
      }
      if (url.pathname !== '/sso') {
        response.writeHead(404).end();
        return;
      }
      const authn = parseAuthnRequest(url.toString());
      this.requests.push(authn);
      const saml = this.response({ inResponseTo: authn.id, acsUrl: authn.acsUrl, audience: this.audience, nameId: this.user.nameId, groups: this.user.groups });
      const relay = authn.relayState === null ? '' : `<input type="hidden" name="RelayState" value="${escapeXml(authn.relayState)}">`;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><body onload="document.forms[0].submit()">
<form method="post" action="${escapeXml(authn.acsUrl)}"><input type="hidden" name="SAMLResponse" value="${saml}">${relay}<noscript><button>Continue</button></noscript></form></body></html>`);
    });
    await new Promise<void>((done) => this.#server?.listen(this.#port, '127.0.0.1', done));
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.#server === null ? done() : this.#server.close(() => done())));
  }
}

/** Enveloped signature over the element with local name `name` (the document's Response or its Assertion). */
function signElement(xml: string, name: 'Assertion' | 'Response', keys: KeyPair, sha1: boolean): string {
  const signer = new SignedXml({
    privateKey: keys.key,
    publicCert: keys.cert,
    signatureAlgorithm: sha1 ? RSA_SHA1 : RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  const xpath = name === 'Response' ? "/*[local-name(.)='Response']" : "//*[local-name(.)='Assertion']";
  signer.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: sha1 ? SHA1 : SHA256 });
  signer.computeSignature(xml, { location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}
