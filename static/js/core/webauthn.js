// WebAuthn in the browser: the server's JSON options (base64url strings) to the ArrayBuffers
// navigator.credentials wants, and the authenticator's answer back to JSON the server verifies.

const toBytes = (b64url) => {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64url.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
};
const toB64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBytes(d.id) }));
// What every credential answer carries, whichever ceremony made it.
const credentialJSON = (cred, response) => ({
  id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
  authenticatorAttachment: cred.authenticatorAttachment || undefined,
  clientExtensionResults: cred.getClientExtensionResults(),
  response: { ...response, clientDataJSON: toB64url(cred.response.clientDataJSON) },
});

/** navigator.credentials.get() with the server's authentication options → the assertion as JSON. */
export async function getAssertion(options) {
  const publicKey = { ...options, challenge: toBytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials) };
  const cred = await navigator.credentials.get({ publicKey });
  const r = cred.response;
  return credentialJSON(cred, {
    authenticatorData: toB64url(r.authenticatorData), signature: toB64url(r.signature),
    userHandle: r.userHandle ? toB64url(r.userHandle) : undefined,
  });
}

/** navigator.credentials.create() with the server's registration options → the attestation as JSON. */
export async function createCredential(options) {
  const publicKey = { ...options, challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials) };
  const cred = await navigator.credentials.create({ publicKey });
  const r = cred.response;
  return credentialJSON(cred, {
    attestationObject: toB64url(r.attestationObject), transports: r.getTransports ? r.getTransports() : [],
  });
}
