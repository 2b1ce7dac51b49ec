import { AGENT_STATES, ENVIRONMENTS } from '../../domain/types.js';
import { CORE_AGENT, TETHER_AGENT_URN } from './agent-resource.js';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './constants.js';

/** RFC 7643 §7 attribute definitions for the schemas Tether serves. */
interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'binary';
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

function attribute(name: string, description: string, overrides: Partial<Attribute> = {}): Attribute {
  return {
    name, type: 'string', multiValued: false, required: false, caseExact: false, mutability: 'readWrite',
    returned: 'default', uniqueness: 'none', description, ...overrides,
  };
}

const multiValued = (name: string, description: string, extra: Attribute[] = []): Attribute =>
  attribute(name, description, {
    type: 'complex', multiValued: true,
    subAttributes: [
      attribute('value', `The ${name} value`),
      attribute('display', 'A human-readable name'),
      attribute('type', 'A label indicating the function'),
      attribute('primary', 'The primary value', { type: 'boolean' }),
      ...extra,
    ],
  });

const USER_ATTRIBUTES: Attribute[] = [
  attribute('userName', 'Unique identifier for the user, typically used to sign in', { required: true, uniqueness: 'server' }),
  attribute('name', 'The components of the user\'s name', {
    type: 'complex',
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((sub) => attribute(sub, `name.${sub}`)),
  }),
  attribute('displayName', 'The name of the user, suitable for display'),
  attribute('nickName', 'The casual way to address the user'),
  attribute('profileUrl', 'A URI pointing to the user\'s online profile', { type: 'reference', referenceTypes: ['external'] }),
  attribute('title', 'The user\'s title'),
  attribute('userType', 'The relationship between the organisation and the user'),
  attribute('preferredLanguage', 'Preferred written or spoken language'),
  attribute('locale', 'Default location for localisation'),
  attribute('timezone', 'Time zone in IANA format'),
  attribute('active', 'The user\'s administrative status; false makes the user a leaver', { type: 'boolean' }),
  attribute('password', 'Accepted on input and discarded: Tether never stores passwords', { mutability: 'writeOnly', returned: 'never' }),
  multiValued('emails', 'Email addresses'),
  multiValued('phoneNumbers', 'Phone numbers'),
  multiValued('ims', 'Instant messaging addresses'),
  multiValued('photos', 'URLs of photos'),
  attribute('addresses', 'Physical mailing addresses', {
    type: 'complex', multiValued: true,
    subAttributes: ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map((sub) => attribute(sub, `addresses.${sub}`)),
  }),
  attribute('groups', 'Groups the user belongs to, directly or through nested groups; computed from Group membership', {
    type: 'complex', multiValued: true, mutability: 'readOnly',
    subAttributes: [attribute('value', 'Group id', { mutability: 'readOnly' }), attribute('display', 'Group name', { mutability: 'readOnly' }), attribute('type', 'direct (a member) or indirect (through a nested group)', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] })],
  }),
  multiValued('entitlements', 'Entitlements of the user'),
  multiValued('roles', 'Roles of the user'),
  multiValued('x509Certificates', 'Certificates of the user'),
];

const ENTERPRISE_ATTRIBUTES: Attribute[] = [
  attribute('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person'),
  attribute('costCenter', 'Name of a cost center'),
  attribute('organization', 'Name of an organisation'),
  attribute('division', 'Name of a division'),
  attribute('department', 'Name of a department'),
  attribute('manager', 'The user\'s manager', {
    type: 'complex',
    subAttributes: [attribute('value', 'The id of the manager'), attribute('$ref', 'The URI of the manager', { type: 'reference', referenceTypes: ['User'] }), attribute('displayName', 'The manager\'s name', { mutability: 'readOnly' })],
  }),
];

const GROUP_ATTRIBUTES: Attribute[] = [
  attribute('displayName', 'A human-readable name for the group; grant rules match it', { required: true }),
  attribute('members', 'Members of the group (users or groups)', {
    type: 'complex', multiValued: true,
    subAttributes: [attribute('value', 'Member id', { mutability: 'immutable' }), attribute('display', 'Member label: the one the client writes is stored and returned'), attribute('type', 'User or Group', { mutability: 'immutable' })],
  }),
];

const readOnly = { mutability: 'readOnly' } as const;

/**
 * draft-wzdk-scim-agent-resource-00 (and draft-abbey-scim-agent-extension-00, same URN): what Tether stores
 * and serves. `entitlements` are computed (the agent's effective rights), hence read-only here.
 */
const AGENT_ATTRIBUTES: Attribute[] = [
  attribute('agentUserName', 'Unique name of the agent; Tether\'s agent name. `name` (draft-abbey) is accepted instead', { required: true, uniqueness: 'server' }),
  attribute('name', 'draft-abbey-scim-agent-extension\'s spelling of agentUserName; same value', { uniqueness: 'server' }),
  attribute('displayName', 'The name of the agent, suitable for display'),
  attribute('description', 'What the agent is'),
  attribute('agentType', 'A label classifying the agent (e.g. Assistant); no canonical values'),
  attribute('active', 'false suspends the agent: every right is revoked until it is true again', { type: 'boolean' }),
  attribute('owners', 'Users accountable for the agent. The first is its sponsor (its rights never exceed theirs), the others backup sponsors in order', {
    type: 'complex', multiValued: true, required: true,
    subAttributes: [
      attribute('value', 'The id of a User of the same source', { required: true, caseExact: true }),
      attribute('$ref', 'The URI of the User', { type: 'reference', referenceTypes: ['User'], ...readOnly }),
      attribute('type', 'Only User owners are supported', { canonicalValues: ['User'] }),
      attribute('display', 'The owner\'s name', readOnly),
    ],
  }),
  attribute('parent', 'The agent this agent belongs under', {
    type: 'complex',
    subAttributes: [
      attribute('value', 'The id of the parent Agent', { caseExact: true }),
      attribute('$ref', 'The URI of the parent Agent', { type: 'reference', referenceTypes: ['Agent'], ...readOnly }),
      attribute('display', 'The parent\'s name'),
    ],
  }),
  attribute('entitlements', 'The agent\'s effective rights now (requested ∩ covered by the sponsor ∩ environment ceiling); computed', {
    type: 'complex', multiValued: true, ...readOnly,
    subAttributes: [
      attribute('value', 'Tool id', { ...readOnly, caseExact: true }),
      attribute('display', 'System the tool belongs to', readOnly),
      attribute('type', 'Risk class of the tool', { ...readOnly, canonicalValues: ['read', 'write', 'orchestrate'] }),
    ],
  }),
  multiValued('roles', 'Roles of the agent (stored, not interpreted)'),
  attribute('subject', 'The subject of the agent in inbound tokens (stored, not interpreted)', { caseExact: true }),
  attribute('protocols', 'Protocols the agent speaks (stored, not interpreted)', {
    type: 'complex', multiValued: true,
    subAttributes: [attribute('type', 'A2A, OpenAPI, MCP-Server...'), attribute('specificationUrl', 'Where the protocol document is', { type: 'reference', referenceTypes: ['external'] })],
  }),
  attribute('x509Certificates', 'Certificates of the agent (stored, not interpreted)', {
    type: 'complex', multiValued: true,
    subAttributes: [attribute('value', 'DER certificate, base64', { type: 'binary', caseExact: true }), attribute('display', 'A label'), attribute('type', 'A label')],
  }),
];

const TETHER_AGENT_ATTRIBUTES: Attribute[] = [
  attribute('purpose', 'Why the agent exists; required by Tether', { required: true }),
  attribute('environment', 'Where the agent runs; its ceiling of rights. Default sandbox', { canonicalValues: [...ENVIRONMENTS], caseExact: true }),
  attribute('requestedTools', 'Tool ids or patterns (crm.*) from the tool catalog; validated on write', { multiValued: true, caseExact: true }),
  attribute('expiresAt', 'After this instant the agent holds no right', { type: 'dateTime' }),
  attribute('state', 'Tether\'s lifecycle state of the agent', { ...readOnly, canonicalValues: [...AGENT_STATES], caseExact: true }),
];

function schema(id: string, name: string, description: string, attributes: Attribute[]) {
  return { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'], id, name, description, attributes, meta: { resourceType: 'Schema', location: `/Schemas/${id}` } };
}

export const SCHEMAS = [
  schema(CORE_USER, 'User', 'User Account', USER_ATTRIBUTES),
  schema(ENTERPRISE_USER, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRIBUTES),
  schema(CORE_GROUP, 'Group', 'Group', GROUP_ATTRIBUTES),
  schema(CORE_AGENT, 'Agent', 'AI agent (draft-wzdk-scim-agent-resource-00)', AGENT_ATTRIBUTES),
  schema(TETHER_AGENT_URN, 'TetherAgent', 'Tether\'s agent extension: purpose, environment, requested tools, expiry, state', TETHER_AGENT_ATTRIBUTES),
];
