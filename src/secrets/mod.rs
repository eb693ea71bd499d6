//! Secrets: where each secret is placed, how values are sealed for the Sealed Secrets
//! controller, and the committed file of sealed values that `kiln build` embeds.
//!
//! - [`placement`]: which clusters and namespaces get which secret (from `usedBy` and
//!   registry pull secrets), computed in one function so other targets can extend it.
//! - [`cert`] and [`seal`]: the controller certificate and kubeseal-compatible sealing.
//! - [`sealed_file`]: `environments/sealed/<env>.yaml`, read at load time (I/O stays out
//!   of renderers) and written by `kiln seal`.
//! - [`values`]: where `kiln seal` gets plaintext from (1Password, a generator, a
//!   template of other keys, standard input or an environment variable).

pub mod cert;
pub mod keys;
pub mod seal;
pub mod sealed_file;

/// The checks of secrets (codes E02xx, apart from the loader's E00xx).
pub mod checks {
    use crate::diagnostic::Check;

    /// A secret no app uses.
    pub const UNUSED_SECRET: Check = Check {
        code: "E0201",
        name: "unused-secret",
    };
    /// A secret referenced where it is not placed (its `usedBy` misses the app).
    pub const SECRET_NOT_AVAILABLE: Check = Check {
        code: "E0202",
        name: "secret-not-available",
    };
    /// A placed secret has no sealed value yet (or only some of its keys).
    pub const SECRET_NOT_SEALED: Check = Check {
        code: "E0203",
        name: "secret-not-sealed",
    };
    /// The sealed values file could not be read or understood, or is out of date.
    pub const SEALED_FILE: Check = Check {
        code: "E0204",
        name: "sealed-file",
    };

    /// `kiln seal` cannot obtain or use a value (or has no certificate for a cluster).
    pub const SEAL: Check = Check {
        code: "E0205",
        name: "seal",
    };

    /// Every check here.
    pub const ALL: &[Check] = &[
        UNUSED_SECRET,
        SECRET_NOT_AVAILABLE,
        SECRET_NOT_SEALED,
        SEALED_FILE,
        SEAL,
    ];

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn codes_are_unique_and_apart_from_the_loaders() {
            let mut seen = std::collections::HashSet::new();
            for c in ALL.iter().chain(crate::diagnostic::checks::ALL) {
                assert!(seen.insert(c.code), "duplicate code {}", c.code);
                assert!(seen.insert(c.name), "duplicate name {}", c.name);
            }
        }
    }
}
pub mod sealer;
pub mod values;
