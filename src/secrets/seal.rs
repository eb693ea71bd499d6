//! Sealing one value the way the Sealed Secrets controller expects (its `HybridEncrypt`),
//! so `kiln seal` needs no kubeseal binary and its output is byte-compatible.
//!
//! Format: a fresh 32-byte AES-256 session key encrypts the value with AES-GCM (12-byte
//! all-zero nonce, no associated data, 16-byte tag appended); the session key itself is
//! encrypted with RSA-OAEP (SHA-256 for the hash and MGF1, the scope label as the OAEP
//! label). Bytes: 2-byte big-endian length of the RSA block, the RSA block (always the
//! modulus size), the GCM ciphertext with its tag; standard padded base64.
//!
//! The randomness is injected through [`Randomness`], so tests reproduce the vectors
//! the Sealed Secrets project's own code produced with fixed randomness. EME-OAEP
//! encoding (RFC 8017 §7.1.1) is done here because the `rsa` crate draws the seed from
//! its RNG internally; only the raw RSA primitive comes from `rsa`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key};
use base64::Engine;
use rsa::BoxedUint;
use rsa::RsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// Length of the AES-256 session key and of the SHA-256 OAEP seed.
const SESSION_KEY_LEN: usize = 32;
const HASH_LEN: usize = 32;

/// Where sealing gets its unpredictable bytes from.
pub trait Randomness {
    /// A fresh AES-256 session key.
    fn session_key(&mut self) -> [u8; SESSION_KEY_LEN];
    /// A fresh OAEP seed (one SHA-256 output long).
    fn oaep_seed(&mut self) -> [u8; HASH_LEN];
}

/// The operating system's CSPRNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn session_key(&mut self) -> [u8; SESSION_KEY_LEN] {
        os_bytes()
    }

    fn oaep_seed(&mut self) -> [u8; HASH_LEN] {
        os_bytes()
    }
}

/// Bytes from the operating system's CSPRNG. Without one, no secret can be made
/// safely, so its absence is fatal.
pub fn os_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .unwrap_or_else(|e| panic!("the operating system's random source failed: {e}"));
    buf
}

/// How a sealed value is bound to where it may be decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Only as the secret `name` in `namespace` (the default).
    Strict,
    /// As any secret in `namespace`.
    NamespaceWide,
    /// As any secret in any namespace.
    ClusterWide,
}

impl Scope {
    /// The OAEP label: `namespace/name`, `namespace` or empty.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The annotation that tells the controller the scope, when not strict.
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some("sealedsecrets.bitnami.com/namespace-wide"),
            Scope::ClusterWide => Some("sealedsecrets.bitnami.com/cluster-wide"),
        }
    }

    /// kubeseal's `--scope` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The RSA key is too small to hold an OAEP-padded session key.
    #[error("the certificate's RSA key ({bits} bits) is too small to seal with")]
    KeyTooSmall {
        /// Modulus size in bits.
        bits: usize,
    },
    /// The RSA primitive or AES-GCM failed.
    #[error("encryption failed: {0}")]
    Crypto(String),
}

/// Seals `plaintext` for `key` with `label` (see [`Scope::label`]); returns the raw
/// bytes of the sealed value.
pub fn hybrid_encrypt(
    key: &RsaPublicKey,
    plaintext: &[u8],
    label: &[u8],
    rng: &mut dyn Randomness,
) -> Result<Vec<u8>, SealError> {
    let session_key = rng.session_key();
    let rsa_block = oaep_encrypt(key, &session_key, label, &rng.oaep_seed())?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(session_key));
    let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::default();
    let sealed = cipher
        .encrypt(&nonce, plaintext)
        .map_err(|e| SealError::Crypto(format!("AES-GCM: {e}")))?;
    let len = u16::try_from(rsa_block.len())
        .map_err(|_| SealError::Crypto("RSA block longer than 65535 bytes".to_owned()))?;
    let mut out = Vec::with_capacity(2 + rsa_block.len() + sealed.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&rsa_block);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The length of AES-GCM's authentication tag, at the end of every sealed value.
const GCM_TAG_LEN: usize = 16;

/// Checks that `value` has the layout of a sealed value (the module docs): standard
/// padded base64 of a 2-byte big-endian length, an RSA block of that many bytes (the
/// modulus size of a certificate kiln seals with, 2048 to 16384 bits), then AES-GCM
/// ciphertext of at least its 16-byte tag. Without the private key nothing more can be
/// known; this is enough to tell a sealed value from a token or password pasted in its
/// place. The error says what is wrong without quoting the value.
pub fn check_layout(value: &str) -> Result<(), String> {
    use super::cert::{MAX_BITS, MIN_BITS};
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| "it is not base64 (a sealed value is standard padded base64)".to_owned())?;
    let [hi, lo, rest @ ..] = raw.as_slice() else {
        return Err(format!(
            "it decodes to {} bytes, too few for a sealed value",
            raw.len()
        ));
    };
    let block = usize::from(u16::from_be_bytes([*hi, *lo]));
    let (min, max) = (MIN_BITS / 8, MAX_BITS / 8);
    if !(min..=max).contains(&block) {
        return Err(format!(
            "its first two bytes give an RSA block of {block} bytes; a certificate of 2048 to 16384 bits gives {min} to {max}"
        ));
    }
    if rest.len() < block + GCM_TAG_LEN {
        return Err(format!(
            "it decodes to {} bytes, fewer than the {} of a {}-bit RSA block and an AES-GCM tag",
            raw.len(),
            2 + block + GCM_TAG_LEN,
            block * 8
        ));
    }
    Ok(())
}

/// [`hybrid_encrypt`], base64-encoded as it appears in `spec.encryptedData`.
pub fn seal_base64(
    key: &RsaPublicKey,
    plaintext: &[u8],
    label: &[u8],
    rng: &mut dyn Randomness,
) -> Result<String, SealError> {
    let raw = hybrid_encrypt(key, plaintext, label, rng)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// RSAES-OAEP-ENCRYPT (RFC 8017 §7.1.1) with SHA-256 and MGF1-SHA-256 and the given
/// seed; returns the ciphertext left-padded to the modulus size.
fn oaep_encrypt(
    key: &RsaPublicKey,
    message: &[u8],
    label: &[u8],
    seed: &[u8; HASH_LEN],
) -> Result<Vec<u8>, SealError> {
    let k = key.size();
    if message.len() + 2 * HASH_LEN + 2 > k {
        return Err(SealError::KeyTooSmall { bits: k * 8 });
    }
    // EM = 0x00 || maskedSeed || maskedDB, DB = lHash || PS || 0x01 || M.
    let mut em = vec![0u8; k];
    let (seed_part, db) = em[1..].split_at_mut(HASH_LEN);
    seed_part.copy_from_slice(seed);
    db[..HASH_LEN].copy_from_slice(&Sha256::digest(label));
    let one_at = db.len() - message.len() - 1;
    db[one_at] = 1;
    db[one_at + 1..].copy_from_slice(message);
    mgf1_xor(db, seed_part);
    mgf1_xor(seed_part, db);

    let m = BoxedUint::from_be_slice(&em, key.n_bits_precision())
        .map_err(|e| SealError::Crypto(format!("encoding: {e}")))?;
    let c = rsa::hazmat::rsa_encrypt(key, &m).map_err(|e| SealError::Crypto(e.to_string()))?;
    let bytes = c.to_be_bytes();
    // The integer may be narrower or (by storage precision) wider than k bytes.
    let mut out = vec![0u8; k];
    let significant = bytes
        .iter()
        .position(|b| *b != 0)
        .map_or(&bytes[bytes.len()..], |i| &bytes[i..]);
    if significant.len() > k {
        return Err(SealError::Crypto(
            "RSA result wider than the modulus".to_owned(),
        ));
    }
    out[k - significant.len()..].copy_from_slice(significant);
    Ok(out)
}

/// `out ^= MGF1-SHA-256(seed, out.len())`.
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(HASH_LEN)) {
        let mask = Sha256::new()
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (b, m) in chunk.iter_mut().zip(mask.iter()) {
            *b ^= m;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::secrets::cert::Certificate;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;

    /// Randomness fixed by a test.
    pub(crate) struct Fixed {
        pub(crate) session_key: [u8; 32],
        pub(crate) seed: [u8; 32],
    }

    impl Randomness for Fixed {
        fn session_key(&mut self) -> [u8; 32] {
            self.session_key
        }
        fn oaep_seed(&mut self) -> [u8; 32] {
            self.seed
        }
    }

    pub(crate) fn test_data(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/secrets/test_data")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub(crate) fn cert(bits: u32) -> Certificate {
        Certificate::parse(&test_data(&format!("cert{bits}.pem")), now()).unwrap()
    }

    pub(crate) fn private_key(bits: u32) -> RsaPrivateKey {
        let pem = pem::parse(test_data(&format!("key{bits}.pem"))).unwrap();
        RsaPrivateKey::from_pkcs1_der(pem.contents()).unwrap()
    }

    pub(crate) fn now() -> std::time::SystemTime {
        std::time::SystemTime::now()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Opens a sealed value like the controller does: RSA-OAEP (the `rsa` crate's
    /// own decoder, independent of ours), then AES-GCM.
    pub(crate) fn unseal(key: &RsaPrivateKey, sealed_b64: &str, label: &[u8]) -> Vec<u8> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed_b64)
            .unwrap();
        let len = usize::from(u16::from_be_bytes([raw[0], raw[1]]));
        assert_eq!(len, key.size(), "the RSA block is always the modulus size");
        let session_key = key
            .decrypt(
                rsa::Oaep::<Sha256>::new_with_label(label.to_vec()),
                &raw[2..2 + len],
            )
            .expect("OAEP decryption with the scope label");
        let cipher = Aes256Gcm::new_from_slice(&session_key).unwrap();
        cipher
            .decrypt(&Default::default(), &raw[2 + len..])
            .expect("GCM tag verifies")
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Vector {
        name: String,
        scope: String,
        namespace: String,
        secret_name: String,
        label: String,
        plaintext_hex: String,
        session_key_hex: String,
        oaep_seed_hex: String,
        ciphertext_b64: String,
    }

    fn scope(s: &str) -> Scope {
        match s {
            "strict" => Scope::Strict,
            "namespace-wide" => Scope::NamespaceWide,
            "cluster-wide" => Scope::ClusterWide,
            other => panic!("unknown scope {other}"),
        }
    }

    #[test]
    fn reproduces_every_vector_byte_for_byte() {
        let mut count = 0;
        for bits in [2048, 4096] {
            let cert = cert(bits);
            let vectors: Vec<Vector> =
                serde_json::from_str(&test_data(&format!("vectors-{bits}.json"))).unwrap();
            assert!(!vectors.is_empty());
            for v in vectors {
                let label = scope(&v.scope).label(&v.namespace, &v.secret_name);
                assert_eq!(label, v.label.as_bytes(), "{bits}/{}: label", v.name);
                let mut rng = Fixed {
                    session_key: hex(&v.session_key_hex).try_into().unwrap(),
                    seed: hex(&v.oaep_seed_hex).try_into().unwrap(),
                };
                let sealed =
                    seal_base64(cert.key(), &hex(&v.plaintext_hex), &label, &mut rng).unwrap();
                assert_eq!(sealed, v.ciphertext_b64, "{bits}/{}", v.name);
                count += 1;
            }
        }
        assert_eq!(count, 13);
    }

    #[test]
    fn real_randomness_round_trips_in_every_scope() {
        for bits in [2048, 4096] {
            let cert = cert(bits);
            let key = private_key(bits);
            for scope in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
                let label = scope.label("invoicetron-prod", "invoicetron-db");
                let plaintext = b"correct horse battery staple\n\x00\xff";
                let a = seal_base64(cert.key(), plaintext, &label, &mut OsRandomness).unwrap();
                let b = seal_base64(cert.key(), plaintext, &label, &mut OsRandomness).unwrap();
                assert_ne!(a, b, "fresh randomness every time");
                assert_eq!(unseal(&key, &a, &label), plaintext, "{bits} {scope:?}");
                // Another scope's label must not open it.
                let wrong = Scope::Strict.label("other", "invoicetron-db");
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(&a)
                    .unwrap();
                let len = usize::from(u16::from_be_bytes([raw[0], raw[1]]));
                assert!(
                    key.decrypt(rsa::Oaep::<Sha256>::new_with_label(wrong), &raw[2..2 + len])
                        .is_err()
                );
            }
        }
    }

    #[test]
    fn every_vector_and_fresh_seal_has_the_sealed_layout_and_nothing_else_does() {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        for bits in [2048, 4096] {
            let vectors: Vec<Vector> =
                serde_json::from_str(&test_data(&format!("vectors-{bits}.json"))).unwrap();
            for v in vectors {
                assert_eq!(check_layout(&v.ciphertext_b64), Ok(()), "{bits}/{}", v.name);
            }
            let sealed = seal_base64(cert(bits).key(), b"", b"ns/name", &mut OsRandomness).unwrap();
            assert_eq!(check_layout(&sealed), Ok(()), "{bits}: empty plaintext");
            // One byte short of the tag: no AES-GCM ciphertext is that short.
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&sealed)
                .unwrap();
            let short = check_layout(&b64(&raw[..raw.len() - 1])).unwrap_err();
            assert!(short.contains("fewer than"), "{short}");
        }
        // The shape of a GitHub token, pasted where a sealed value goes.
        let token = &format!("ghp_{}", "A1b2".repeat(9));
        for (bad, why) in [
            (token.to_owned(), "not base64"),
            ("AA==".to_owned(), "too few"),
            (b64(token.as_bytes()), "RSA block of 26472 bytes"),
            (b64(&[0x01, 0x00, 0xaa]), "fewer than the 274"),
            (b64(&[0x00, 0x80, 0xaa]), "RSA block of 128 bytes"),
            ("AgB2 AgB2".to_owned(), "not base64"),
        ] {
            let got = check_layout(&bad).expect_err(&bad);
            assert!(got.contains(why), "{bad}: {got}");
            assert!(
                !got.contains(&bad) && !got.contains(token),
                "{got} quotes the value"
            );
        }
    }

    #[test]
    fn mgf1_matches_rfc_8017_definition_for_multi_block_masks() {
        // T = Hash(seed || 0) || Hash(seed || 1) ..., truncated.
        let mut out = vec![0u8; 40];
        mgf1_xor(&mut out, b"seed");
        let mut expected = Sha256::digest(b"seed\0\0\0\0").to_vec();
        expected.extend_from_slice(&Sha256::digest(b"seed\0\0\0\x01")[..8]);
        assert_eq!(out, expected);
    }
}
