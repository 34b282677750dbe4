// A real OpenID provider on loopback for the single sign-on tests
// (tests/api/sso.rs): the `oidc-provider` package (panva), its own
// development login and consent pages, one confidential client that must use
// PKCE, a few fixed accounts, and anyone whose login is an email address
// (verified).
//
//   node provider.mjs --port 4100 --client-id bar-raiser \
//        --client-secret s3cret --redirect-uri http://127.0.0.1:8080/api/v1/auth/sso/callback
//
// Prints `ready <issuer>` on stdout once it listens. Test-only admin routes
// (loopback, never part of a real provider):
//   POST /__admin/rotate          a new signing key (new `kid`) replaces the old
//                                 one: the JWKS and every ID token from now on
//   POST /__admin/clock?offset=S  the provider's clock runs S seconds off
//                                 (negative: in the past, so its ID tokens are
//                                 already expired when they are issued)

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    'client-id': { type: 'string', default: 'bar-raiser' },
    'client-secret': { type: 'string', default: 'bar-raiser-test-secret' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'id-token-ttl': { type: 'string', default: '300' },
  },
});

// The clock the provider reads (`Date.now`), movable by the admin route.
const realNow = Date.now.bind(Date);
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;

// The people who can sign in; the login form's "login" field names one.
const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Anders', groups: ['engineering'] },
  rita: { email: 'rita@example.com', email_verified: true, name: 'Rita Recruiter', groups: ['talent', 'engineering'] },
  olga: { email: 'olga@example.com', email_verified: true, name: 'Olga Owner', groups: ['platform-admins'] },
  uma: { email: 'uma@example.com', email_verified: false, name: 'Uma Unverified', groups: [] },
  dora: { email: 'dora@example.com', email_verified: true, name: 'Dora Disabled', groups: [] },
  nina: { email: 'nina@example.com', email_verified: true, name: 'Nina New', groups: ['talent'] },
  admin: { email: 'admin@example.com', email_verified: true, name: 'Ada Admin', groups: [] },
};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const port = Number(args.port);
const server = createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const cookieKeys = [randomUUID(), randomUUID()];

function makeProvider(key) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [key] },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // The ID token carries the claims (no userinfo round trip needed).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    ttl: {
      IdToken: () => Number(args['id-token-ttl']),
      AuthorizationCode: () => 60,
      Interaction: () => 600,
      Session: () => 3600,
      Grant: () => 3600,
    },
    async findAccount(_ctx, id) {
      // Any other login that is an email address is a person with that
      // verified address (the authorization matrix's cast).
      const person = ACCOUNTS[id]
        ?? (id.includes('@') ? { email: id, email_verified: true, name: id, groups: [] } : undefined);
      if (!person) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...person };
        },
      };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('provider error', err));
  return provider;
}

// One provider at a time answers; rotation builds a new one with a new key.
// Grants, sessions and codes live in the package's in-memory adapter, which
// all instances share, so a rotation loses nothing but the old key.
let current = makeProvider(signingKey());
let handler = current.callback();

server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (req.method === 'POST' && url.pathname === '/__admin/rotate') {
    current = makeProvider(signingKey());
    handler = current.callback();
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'POST' && url.pathname === '/__admin/clock') {
    offsetMs = Number(url.searchParams.get('offset') ?? '0') * 1000;
    res.writeHead(204).end();
    return;
  }
  handler(req, res);
});

process.stdout.write(`ready ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
