//! Signing key, JWT minting, random token material and non-reversible fingerprints.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

struct KeyPair {
    signing: SigningKey<Sha256>,
    public: RsaPublicKey,
    public_pem: String,
}

/// One 2048-bit key per process, made on first use (every double in a test binary shares it: key generation is
/// the slow part of start-up).
fn key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
        let public = RsaPublicKey::from(&private);
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM encoding of the public key");
        KeyPair {
            signing: SigningKey::<Sha256>::new(private),
            public,
            public_pem,
        }
    })
}

/// Make sure the key exists (called when a double starts, so the first request is not slow).
pub(crate) fn warm_up() {
    key();
}

/// The public key that verifies every access token, as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn public_key_pem() -> String {
    key().public_pem.clone()
}

/// The public key itself.
pub fn public_key() -> RsaPublicKey {
    key().public.clone()
}

/// An RS256 JWT with header `{"alg":"RS256","typ":"JWT"}` and the given claims.
pub(crate) fn sign_jwt(claims: &serde_json::Value) -> String {
    let header = kommo::jwt::encode_segment(&serde_json::json!({"typ": "JWT", "alg": "RS256"}));
    let payload = kommo::jwt::encode_segment(claims);
    let signing_input = format!("{header}.{payload}");
    let signature = key().signing.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A random UUID (version 4 layout).
pub(crate) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An opaque code or refresh token shaped like Kommo's (`def50200` followed by hex).
pub(crate) fn opaque_token(bytes: usize) -> String {
    format!("def50200{}", random_hex(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A non-reversible id for a code or token: the first 8 hex digits of its SHA-256. The log keeps only this, so a
/// test can count how often one code was posted without the log ever holding the code.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    hex(&digest[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    #[test]
    fn jwt_verifies_and_a_changed_payload_does_not() {
        let token = sign_jwt(&serde_json::json!({"sub": "1"}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let vk = VerifyingKey::<Sha256>::new(public_key());
        let sig =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        let forged = kommo::jwt::encode_segment(&serde_json::json!({"sub": "2"}));
        assert!(vk
            .verify(format!("{}.{}", parts[0], forged).as_bytes(), &sig)
            .is_err());
        assert!(public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn random_material_and_fingerprints() {
        let u = random_uuid();
        assert!(kommo::consent::parse_client_id(&u).is_ok(), "{u}");
        assert_ne!(random_hex(16), random_hex(16));
        assert!(opaque_token(8).starts_with("def50200"));
        assert_eq!(fingerprint("abc"), "ba7816bf"); // SHA-256("abc") starts ba7816bf
        assert_eq!(fingerprint("abc").len(), 8);
    }
}
