//! JSON Web Tokens: base64url pieces, RS512 signatures (aws-lc-rs), and client assertions with
//! deliberate defects for the token endpoint probes (SEC-JWT-004).

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// An RSA key for signing client assertions.
pub struct ClientKey {
    key: RsaKeyPair,
}

impl std::fmt::Debug for ClientKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(..)")
    }
}

impl ClientKey {
    pub fn generate() -> Result<Self, String> {
        RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map(|key| Self { key })
            .map_err(|e| format!("cannot make an RSA key: {e}"))
    }

    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD
            .decode(body.trim())
            .map_err(|e| format!("the key is not PEM: {e}"))?;
        RsaKeyPair::from_pkcs8(&der)
            .map(|key| Self { key })
            .map_err(|e| format!("the key is not a PKCS#8 RSA private key: {e}"))
    }

    pub fn to_pem(&self) -> Result<String, String> {
        let der = self.key.as_der().map_err(|e| e.to_string())?;
        let encoded = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(64)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        Ok(format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ))
    }

    /// The public key (PKCS#1 RSAPublicKey DER), for verifiers.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    pub fn sign_rs512(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA512,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|e| format!("signing failed: {e}"))?;
        Ok(signature)
    }
}

pub fn verify_rs512(public_key_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA512, public_key_der)
        .verify(message, signature)
        .is_ok()
}

/// `header.payload.` with no signature (`alg` as the header says).
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

pub fn signed(header: &Value, claims: &Value, key: &ClientKey) -> Result<String, String> {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = key.sign_rs512(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// A decoded JWT: header, claims, the signed input and the signature.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn decode(token: &str) -> Result<Decoded, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "a JWT has 3 dot-separated parts, this has {}",
            parts.len()
        ));
    }
    let json = |part: &str, what: &str| -> Result<Value, String> {
        let bytes = b64url_decode(part).ok_or_else(|| format!("the {what} is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| format!("the {what} is not JSON"))
    };
    Ok(Decoded {
        header: json(parts[0], "header")?,
        claims: json(parts[1], "payload")?,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: b64url_decode(parts[2]).ok_or("the signature is not base64url")?,
    })
}

/// What is deliberately wrong with a client assertion (SEC-JWT-004's negative matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionDefect {
    None,
    AlgNone,
    AlgHs256,
    NoKid,
    UnknownKid,
    IssNotSub,
    WrongAudience,
    NoJti,
    ExpTooFar,
    ExpPast,
    BadSignature,
}

impl AssertionDefect {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "no defect" => Self::None,
            "alg none" => Self::AlgNone,
            "alg HS256" => Self::AlgHs256,
            "no kid" => Self::NoKid,
            "an unknown kid" => Self::UnknownKid,
            "iss different from sub" => Self::IssNotSub,
            "the wrong audience" => Self::WrongAudience,
            "no jti" => Self::NoJti,
            "exp six minutes ahead" => Self::ExpTooFar,
            "exp in the past" => Self::ExpPast,
            "a bad signature" => Self::BadSignature,
            _ => return None,
        })
    }
}

/// A client assertion for `grant_type=client_credentials` (NHS API platform signed-JWT pattern):
/// RS512, `kid`, `iss` = `sub` = client id, `aud` = token URL, fresh `jti`, `exp` ≤ 5 minutes.
pub fn client_assertion(
    client_id: &str,
    kid: &str,
    token_url: &str,
    key: &ClientKey,
    defect: AssertionDefect,
    jti: &str,
) -> Result<String, String> {
    let now = chrono::Utc::now().timestamp();
    let mut header = json!({"alg": "RS512", "typ": "JWT", "kid": kid});
    let mut claims =
        json!({"iss": client_id, "sub": client_id, "aud": token_url, "jti": jti, "exp": now + 240});
    match defect {
        AssertionDefect::NoKid => {
            header.as_object_mut().map(|h| h.remove("kid"));
        }
        AssertionDefect::UnknownKid => header["kid"] = json!("mts-unknown-key"),
        AssertionDefect::IssNotSub => claims["sub"] = json!(format!("{client_id}-other")),
        AssertionDefect::WrongAudience => {
            claims["aud"] = json!("https://wrong.example/oauth2/token")
        }
        AssertionDefect::NoJti => {
            claims.as_object_mut().map(|c| c.remove("jti"));
        }
        // Clearly past the five-minute limit and its grace, whatever the clocks' skew.
        AssertionDefect::ExpTooFar => claims["exp"] = json!(now + 360),
        AssertionDefect::ExpPast => claims["exp"] = json!(now - 60),
        _ => {}
    }
    match defect {
        AssertionDefect::AlgNone => {
            header["alg"] = json!("none");
            Ok(unsigned(&header, &claims))
        }
        AssertionDefect::AlgHs256 => {
            header["alg"] = json!("HS256");
            let input = format!(
                "{}.{}",
                b64url(header.to_string().as_bytes()),
                b64url(claims.to_string().as_bytes())
            );
            // Keyed with the public client id: what an attacker could forge.
            let tag = aws_lc_rs::hmac::sign(
                &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, client_id.as_bytes()),
                input.as_bytes(),
            );
            Ok(format!("{input}.{}", b64url(tag.as_ref())))
        }
        AssertionDefect::BadSignature => {
            let good = signed(&header, &claims, key)?;
            let (input, signature) = good.rsplit_once('.').unwrap_or((&good, ""));
            let mut bytes = b64url_decode(signature).unwrap_or_default();
            if let Some(first) = bytes.first_mut() {
                *first ^= 0xff;
            }
            Ok(format!("{input}.{}", b64url(&bytes)))
        }
        _ => signed(&header, &claims, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_sign_and_verify() {
        let key = ClientKey::generate().unwrap();
        let token = client_assertion(
            "client",
            "kid-1",
            "https://x/token",
            &key,
            AssertionDefect::None,
            "jti-1",
        )
        .unwrap();
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.header["alg"], "RS512");
        assert_eq!(decoded.claims["iss"], decoded.claims["sub"]);
        assert!(verify_rs512(
            &key.public_key_der(),
            decoded.signing_input.as_bytes(),
            &decoded.signature
        ));
        let bad = decode(
            &client_assertion(
                "client",
                "kid-1",
                "https://x/token",
                &key,
                AssertionDefect::BadSignature,
                "j",
            )
            .unwrap(),
        )
        .unwrap();
        assert!(!verify_rs512(
            &key.public_key_der(),
            bad.signing_input.as_bytes(),
            &bad.signature
        ));
        let none = decode(
            &client_assertion(
                "client",
                "kid-1",
                "https://x/token",
                &key,
                AssertionDefect::AlgNone,
                "j",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(none.header["alg"], "none");
        assert!(none.signature.is_empty());
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = ClientKey::generate().unwrap();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = ClientKey::from_pem(&pem).unwrap();
        assert_eq!(again.public_key_der(), key.public_key_der());
        assert!(
            format!("{key:?}").contains(".."),
            "no key material in Debug"
        );
    }

    #[test]
    fn malformed_tokens_are_explained() {
        assert!(decode("abc").unwrap_err().contains("3 dot-separated"));
        assert!(decode("!!.e30.").unwrap_err().contains("base64url"));
    }
}
