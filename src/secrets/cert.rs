//! The Sealed Secrets controller's certificate: PEM, the first `CERTIFICATE` block,
//! an RSA key (any size from 2048 bits up), not expired. Anything else is refused with
//! an error that says which of these it is.

use rsa::RsaPublicKey;
use rsa::pkcs1::der::{Decode, Encode};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

/// The `rsaEncryption` algorithm identifier.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// Smallest modulus accepted.
pub(crate) const MIN_BITS: usize = 2048;
/// Largest modulus accepted: larger than any controller uses, small enough to bound work.
pub(crate) const MAX_BITS: usize = 16384;

/// A parsed controller certificate.
#[derive(Clone, Debug)]
pub struct Certificate {
    key: RsaPublicKey,
    fingerprint: String,
    not_after: Duration,
}

/// Why a certificate was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// No PEM block at all.
    #[error(
        "not a PEM certificate: no `-----BEGIN CERTIFICATE-----` block (fetch it with `kubeseal --fetch-cert`)"
    )]
    NotPem,
    /// PEM, but no block is a certificate.
    #[error("the PEM file holds no CERTIFICATE block (found: {0})")]
    NoCertificate(String),
    /// The DER inside is not an X.509 certificate.
    #[error("the CERTIFICATE block is not a valid X.509 certificate: {0}")]
    Malformed(String),
    /// The key is not RSA.
    #[error("the certificate's key is not RSA (algorithm {0}); Sealed Secrets seals with RSA only")]
    NotRsa(String),
    /// The RSA key cannot be used.
    #[error("the certificate's RSA key is unusable: {0}")]
    BadKey(String),
    /// The certificate has expired.
    #[error(
        "the certificate expired on {on}; fetch the controller's current one with `kubeseal --fetch-cert`"
    )]
    Expired {
        /// The expiry date, `YYYY-MM-DD` (UTC).
        on: String,
    },
}

impl Certificate {
    /// Parses the first CERTIFICATE block of a PEM text and checks it against `now`.
    pub fn parse(text: &str, now: SystemTime) -> Result<Certificate, CertError> {
        let blocks = pem::parse_many(text).map_err(|_| CertError::NotPem)?;
        if blocks.is_empty() {
            return Err(CertError::NotPem);
        }
        let Some(block) = blocks.iter().find(|b| b.tag() == "CERTIFICATE") else {
            let tags: Vec<&str> = blocks.iter().map(pem::Pem::tag).collect();
            return Err(CertError::NoCertificate(tags.join(", ")));
        };
        let cert = x509_cert::Certificate::from_der(block.contents())
            .map_err(|e| CertError::Malformed(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let oid = spki.algorithm.oid.to_string();
        if oid != RSA_ENCRYPTION {
            return Err(CertError::NotRsa(algorithm_name(&oid)));
        }
        let pkcs1 = rsa::pkcs1::RsaPublicKeyRef::from_der(spki.subject_public_key.raw_bytes())
            .map_err(|e| CertError::BadKey(e.to_string()))?;
        let uint = |bytes: &[u8]| {
            let bits = u32::try_from(bytes.len() * 8).map_err(|_| "too large".to_owned())?;
            rsa::BoxedUint::from_be_slice(bytes, bits).map_err(|e| e.to_string())
        };
        let n = uint(pkcs1.modulus.as_bytes()).map_err(CertError::BadKey)?;
        let e = uint(pkcs1.public_exponent.as_bytes()).map_err(CertError::BadKey)?;
        let key = RsaPublicKey::new_with_size_limits(n, e, MIN_BITS..=MAX_BITS)
            .map_err(|e| CertError::BadKey(e.to_string()))?;
        let not_after = tbs.validity().not_after.to_unix_duration();
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        if not_after < now {
            return Err(CertError::Expired {
                on: date(not_after.as_secs()),
            });
        }
        let der = cert
            .to_der()
            .map_err(|e| CertError::Malformed(e.to_string()))?;
        Ok(Certificate {
            key,
            fingerprint: format!("sha256:{}", hex(&Sha256::digest(&der))),
            not_after,
        })
    }

    /// The public key values are sealed with.
    pub fn key(&self) -> &RsaPublicKey {
        &self.key
    }

    /// `sha256:<hex>` of the certificate's DER: says which controller key a sealed
    /// value was made for.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// When the certificate expires, as seconds since the Unix epoch.
    pub fn not_after(&self) -> Duration {
        self.not_after
    }
}

fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => format!("{oid}, ECDSA"),
        "1.3.101.112" => format!("{oid}, Ed25519"),
        "1.2.840.113549.1.1.10" => format!("{oid}, RSASSA-PSS"),
        _ => oid.to_owned(),
    }
}

/// `YYYY-MM-DD` of a Unix time (UTC), by the days-to-civil algorithm.
fn date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::seal::tests::test_data;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn reads_the_first_certificate_block_of_rsa_certificates_of_any_size() {
        for bits in [2048usize, 4096] {
            let text = test_data(&format!("cert{bits}.pem"));
            let c = Certificate::parse(&text, SystemTime::now()).unwrap();
            assert_eq!(c.key().size() * 8, bits);
            // A key before the certificate and a second certificate after it change nothing.
            let other = test_data("cert4096.pem");
            let key = test_data("key2048.pem");
            let mixed = format!("{key}{text}{other}");
            let m = Certificate::parse(&mixed, SystemTime::now()).unwrap();
            assert_eq!(m.fingerprint(), c.fingerprint());
        }
    }

    #[test]
    fn refuses_expired_non_pem_non_certificate_and_non_rsa() {
        let text = test_data("cert2048.pem");
        let c = Certificate::parse(&text, SystemTime::now()).unwrap();
        let later = SystemTime::UNIX_EPOCH + c.not_after() + Duration::from_secs(3 * 86_400);
        assert_eq!(
            Certificate::parse(&text, later).unwrap_err(),
            CertError::Expired {
                on: "2036-11-18".to_owned()
            }
        );
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(
            Certificate::parse("hello", SystemTime::now()).unwrap_err(),
            CertError::NotPem
        );
        assert_eq!(
            Certificate::parse(&test_data("key2048.pem"), SystemTime::now()).unwrap_err(),
            CertError::NoCertificate("RSA PRIVATE KEY".to_owned())
        );
        let ec = test_data("cert-ec.pem");
        assert!(matches!(
            Certificate::parse(&ec, SystemTime::now()).unwrap_err(),
            CertError::NotRsa(a) if a.contains("ECDSA")
        ));
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            Certificate::parse(garbage, SystemTime::now()).unwrap_err(),
            CertError::Malformed(_)
        ));
    }
}
