// A real OpenID Connect provider for the hub's tests (the certified `oidc-provider` from npm):
// one client (the hub, authorization code with PKCE), accounts whose claims carry roles and a
// work unit, and the library's own development login and consent pages.
// Usage: node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const ACCOUNTS = {
  "li.ming": { name: "李明", groups: ["hub-staff"], unit: "u-office", email: "li.ming@example.gov.cn" },
  "wang.bao": { name: "王保安", groups: ["hub-security"], unit: "u-security" },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
  }],
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["name", "groups", "unit"], email: ["email"] },
  conformIdTokenClaims: false, // the claims asked for by scope also go into the ID token
  findAccount: async (ctx, id) => {
    const account = ACCOUNTS[id] || { name: id, groups: [], unit: null };
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["test-only-cookie-key"] },
});
provider.listen(Number(port), "127.0.0.1", () => console.log(`oidc provider on ${port}`));
