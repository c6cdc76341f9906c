// A real OpenID provider (node-oidc-provider) for the tests, on loopback only.
//
//   PORT=5555 CLIENT_ID=newsticker CLIENT_SECRET=... REDIRECT_URI=http://127.0.0.1:5000/... \
//   POST_LOGOUT_URI=http://127.0.0.1:5000/redaktion/login node provider.js
//
// Its login page asks only for a user name (alice: an editor group, root: the admin
// group, bob: no mapped group) and has a "Refuse" button that ends the login with
// access_denied. Consent is granted without asking. It prints "listening <issuer>"
// once it accepts connections.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 5555);
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  alice: { email: 'alice@example.org', name: 'Alice Editor', groups: ['newsticker-editors'] },
  root: { email: 'root@example.org', name: 'Root Admin', groups: ['newsticker-admins', 'staff'] },
  bob: { email: 'bob@example.org', name: 'Bob Nobody', groups: ['staff'] },
};

const configuration = {
  clients: [{
    client_id: process.env.CLIENT_ID || 'newsticker',
    client_secret: process.env.CLIENT_SECRET || 'test-client-secret',
    redirect_uris: [process.env.REDIRECT_URI || 'http://127.0.0.1:5000/redaktion/login/oidc/callback'],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_URI || 'http://127.0.0.1:5000/redaktion/login'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true, methods: ['S256'] },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  conformIdTokenClaims: false,
  cookies: { keys: ['test-cookie-key-not-secret'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
  async loadExistingGrant(ctx) {
    // Consent without asking: grant what the client asked for.
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
};

const provider = new Provider(issuer, configuration);

function page(uid) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider login</title></head>
<body><main><h1>Test provider login</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="login">User name</label> <input id="login" name="login" autocomplete="off">
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Refuse</button></form>
</main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (!match) return next();
  const [, , action] = match;
  const { req, res } = ctx;
  const details = await provider.interactionDetails(req, res);
  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    ctx.body = page(details.uid);
    return undefined;
  }
  if (ctx.method === 'POST' && action === '/login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    if (!ACCOUNTS[login]) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page(details.uid);
      return undefined;
    }
    ctx.respond = false;
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return undefined;
  }
  if (ctx.method === 'POST' && action === '/abort') {
    ctx.respond = false;
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person refused the sign-on.',
    }, { mergeWithLastSubmission: false });
    return undefined;
  }
  return next();
});

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
