//! Writes a fresh RS256 key set and a token signed with it, for benchmarks and manual
//! tries of Entra ID authentication without a tenant:
//! `cargo run --example jwt_fixture -- DIR TENANT CLIENT` writes `DIR/keys` (a JWKS
//! document) and `DIR/token` (valid for one hour, `aud` = CLIENT, `iss` = the tenant's
//! v2 issuer). Serve `DIR` on loopback and point `I2SERVER_AUTH_JWKS_URL` at `keys`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, tenant, client] = args.as_slice() else {
        return Err("usage: jwt_fixture DIR TENANT CLIENT".into());
    };
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    let public = private.to_public_key();
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    let jwks = serde_json::json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": "bench", "n": b64(public.n()), "e": b64(public.e())
    }]});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = serde_json::json!({
        "sub": "bench-subject", "aud": client,
        "iss": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        "iat": now, "nbf": now, "exp": now + 3600,
        "preferred_username": "bench@example.invalid", "name": "Bench Mark",
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("bench".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(private.to_pkcs1_der()?.as_bytes());
    let token = jsonwebtoken::encode(&header, &claims, &key)?;
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("keys"), jwks.to_string())?;
    std::fs::write(dir.join("token"), token)?;
    Ok(())
}
