//! `manifest.json`: the SHA-256 of every file of a run folder, with who made it (harness version,
//! catalogue hash) and what was tested (target, profile, settings, no secrets). With a key, an
//! Ed25519 signature over the manifest goes in `manifest.sig`. `mts verify` recomputes every hash
//! and checks the signature: any changed, missing or added file is reported.

use std::path::Path;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::model::Report;

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Key { path: String, message: String },
}

/// An Ed25519 key for signing manifests.
pub struct SigningKey(Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(Ed25519)")
    }
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let base64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(base64).ok()
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl SigningKey {
    /// A PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`, or `mts keygen`).
    pub fn load(path: &Path) -> Result<Self, SigningError> {
        let text = std::fs::read_to_string(path).map_err(|source| SigningError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let key_error = |message: &str| SigningError::Key {
            path: path.display().to_string(),
            message: message.to_owned(),
        };
        let der = pem_body(&text, "PRIVATE KEY")
            .ok_or_else(|| key_error("not a PEM PRIVATE KEY (PKCS#8)"))?;
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map(SigningKey)
            .map_err(|_| key_error("not an Ed25519 private key"))
    }

    /// A new key: (private key PEM, public key PEM).
    pub fn generate() -> Result<(String, String), String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let document = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| e.to_string())?;
        let pair = Ed25519KeyPair::from_pkcs8(document.as_ref()).map_err(|e| e.to_string())?;
        Ok((
            pem("PRIVATE KEY", document.as_ref()),
            public_key_pem(pair.public_key().as_ref()),
        ))
    }

    fn public_key(&self) -> Vec<u8> {
        self.0.public_key().as_ref().to_vec()
    }
}

fn public_key_pem(raw: &[u8]) -> String {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(raw);
    pem("PUBLIC KEY", &der)
}

/// The raw 32-byte key of a PEM Ed25519 public key.
pub fn load_public_key(path: &Path) -> Result<Vec<u8>, SigningError> {
    let text = std::fs::read_to_string(path).map_err(|source| SigningError::Read {
        path: path.display().to_string(),
        source,
    })?;
    pem_body(&text, "PUBLIC KEY")
        .filter(|der| der.len() == 44 && der.starts_with(&ED25519_SPKI_PREFIX))
        .map(|der| der[12..].to_vec())
        .ok_or_else(|| SigningError::Key {
            path: path.display().to_string(),
            message: "not a PEM Ed25519 PUBLIC KEY".into(),
        })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Files of a run folder, sorted, relative names (the folder is flat).
fn folder_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Temporary files of an atomic write in progress are not part of the run.
        if entry.file_type()?.is_file() && !(name.starts_with('.') && name.ends_with(".tmp")) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Writes `manifest.json` over every file in `dir`, and `manifest.sig` when `key` is given.
pub fn write(dir: &Path, report: &Report, key: Option<&SigningKey>) -> std::io::Result<()> {
    let mut files = Vec::new();
    for name in folder_files(dir)? {
        if name == MANIFEST || name == SIGNATURE {
            continue;
        }
        let bytes = std::fs::read(dir.join(&name))?;
        files.push(json!({ "path": name, "bytes": bytes.len(), "sha256": sha256_hex(&bytes) }));
    }
    let manifest = json!({
        "manifest_version": 1,
        "harness": report.harness,
        "catalogue": report.catalogue,
        "target": report.target,
        "profile": report.profile,
        "started": report.started,
        "verdict": report.verdict,
        "settings": report.settings,
        "files": files,
    });
    let mut text = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    text.push(b'\n');
    super::write_atomically(&dir.join(MANIFEST), &text)?;
    if let Some(key) = key {
        let signature = key.0.sign(&text);
        let sig = json!({
            "algorithm": "Ed25519",
            "signed": MANIFEST,
            "public_key": STANDARD.encode(key.public_key()),
            "signature": STANDARD.encode(signature.as_ref()),
        });
        let mut sig_text = serde_json::to_vec_pretty(&sig).map_err(std::io::Error::other)?;
        sig_text.push(b'\n');
        super::write_atomically(&dir.join(SIGNATURE), &sig_text)?;
    }
    Ok(())
}

/// What `mts verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Files whose hash matched.
    pub verified: usize,
    /// Every discrepancy: changed, missing or unlisted files, a bad or missing signature.
    pub problems: Vec<String>,
    /// How the signature was checked, when there is one.
    pub signature: Option<String>,
}

/// Recomputes every hash of `dir`'s manifest and checks its signature, pinned to `public_key`
/// (raw 32 bytes) when given. `Err` only when there is no readable manifest at all.
pub fn verify(dir: &Path, public_key: Option<&[u8]>) -> Result<Verification, String> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read(&manifest_path)
        .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let manifest: Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not JSON: {e}", manifest_path.display()))?;
    let mut outcome = Verification::default();
    let listed: Vec<(String, String)> = manifest["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| {
                    Some((
                        f["path"].as_str()?.to_owned(),
                        f["sha256"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        outcome.problems.push("the manifest lists no files".into());
    }
    for (name, expected) in &listed {
        // The folder is flat: a listed path with a separator is itself tampering.
        if name.contains('/') || name.contains('\\') || name == ".." {
            outcome
                .problems
                .push(format!("{name}: not a file of this folder"));
            continue;
        }
        match std::fs::read(dir.join(name)) {
            Ok(bytes) if sha256_hex(&bytes) == *expected => outcome.verified += 1,
            Ok(bytes) => outcome.problems.push(format!(
                "{name} has changed: sha256 {} but the manifest says {expected}",
                sha256_hex(&bytes)
            )),
            Err(_) => outcome.problems.push(format!("{name} is missing")),
        }
    }
    let present = folder_files(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for name in present {
        if name != MANIFEST && name != SIGNATURE && !listed.iter().any(|(n, _)| *n == name) {
            outcome.problems.push(format!(
                "{name} is not in the manifest (added after the run)"
            ));
        }
    }
    match std::fs::read(dir.join(SIGNATURE)) {
        Ok(sig_text) => check_signature(&sig_text, &text, public_key, &mut outcome),
        Err(_) if public_key.is_some() => outcome
            .problems
            .push("--public-key was given but the folder is not signed (no manifest.sig)".into()),
        Err(_) => {}
    }
    Ok(outcome)
}

fn check_signature(
    sig_text: &[u8],
    manifest: &[u8],
    pinned: Option<&[u8]>,
    outcome: &mut Verification,
) {
    let sig: Value = serde_json::from_slice(sig_text).unwrap_or(Value::Null);
    let decode = |field: &str| sig[field].as_str().and_then(|t| STANDARD.decode(t).ok());
    let (Some(embedded), Some(signature)) = (decode("public_key"), decode("signature")) else {
        outcome
            .problems
            .push("manifest.sig is unreadable (no public_key or signature)".into());
        return;
    };
    if let Some(pinned) = pinned
        && pinned != embedded.as_slice()
    {
        outcome
            .problems
            .push("manifest.sig was made with a different key than --public-key".into());
        return;
    }
    let key = pinned.unwrap_or(&embedded);
    if UnparsedPublicKey::new(&ED25519, key)
        .verify(manifest, &signature)
        .is_err()
    {
        outcome
            .problems
            .push("the Ed25519 signature does not match manifest.json".into());
        return;
    }
    let fingerprint = &sha256_hex(key)[..16];
    outcome.signature = Some(if pinned.is_some() {
        format!("Ed25519 signature valid for the given public key ({fingerprint}…)")
    } else {
        format!(
            "Ed25519 signature valid for the key it names ({fingerprint}…); pass --public-key to pin the signer"
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = SigningKey::generate().unwrap();
        std::fs::write(dir.path().join("k.pem"), private).unwrap();
        std::fs::write(dir.path().join("k.pub"), public).unwrap();
        let key = SigningKey::load(&dir.path().join("k.pem")).unwrap();
        let raw = load_public_key(&dir.path().join("k.pub")).unwrap();
        assert_eq!(raw, key.public_key());
        let signature = key.0.sign(b"manifest");
        assert!(
            UnparsedPublicKey::new(&ED25519, &raw)
                .verify(b"manifest", signature.as_ref())
                .is_ok()
        );
    }
}
