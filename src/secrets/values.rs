//! Where `kiln seal` gets plaintext on a real machine: the 1Password CLI (`op read`),
//! an environment variable or standard input for hand-entered values, and the
//! operating system's CSPRNG for generated ones.

use super::seal::os_bytes;
use super::sealer::Obtain;
use crate::model::Alphabet;
use std::io::{IsTerminal, Read, Write};
use std::process::{Command, Stdio};

/// The real sources.
#[derive(Debug, Default)]
pub struct System {
    /// Standard input was already read for one manual value.
    stdin_taken: Option<String>,
}

impl Obtain for System {
    fn op(&mut self, reference: &str) -> Result<Vec<u8>, String> {
        let out = Command::new("op")
            .args(["read", "--no-newline", reference])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "the 1Password CLI `op` is not installed (or not on PATH)".to_owned()
                }
                _ => format!("cannot run `op`: {e}"),
            })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "`op read` failed: {}; sign in first (`eval \"$(op signin)\"`)",
                err.trim()
            ));
        }
        if out.stdout.is_empty() {
            // The seed's lesson: an expired session made `op read` print nothing, and an
            // empty secret went to the cluster.
            return Err(
                "`op read` returned nothing: is the 1Password session still open? (`eval \"$(op signin)\"`)"
                    .to_owned(),
            );
        }
        Ok(out.stdout)
    }

    fn manual(&mut self, id: &str, hint: &str, var: &str) -> Result<Vec<u8>, String> {
        if let Some(v) = std::env::var_os(var) {
            let v = v.into_string().map_err(|_| format!("{var} is not UTF-8"))?;
            return Ok(v.into_bytes());
        }
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{id} ({hint}): ");
            let _ = err.flush();
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            return Ok(line.trim_end_matches(['\n', '\r']).as_bytes().to_vec());
        }
        if let Some(first) = &self.stdin_taken {
            return Err(format!(
                "standard input already gave `{first}`; set {var} for this one ({hint})"
            ));
        }
        let mut text = String::new();
        stdin
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        self.stdin_taken = Some(id.to_owned());
        if text.is_empty() {
            return Err(format!("set {var} or pipe the value in ({hint})"));
        }
        // One line (a typed or echoed value) loses its newline; a multi-line value
        // (an SSH key, a certificate) is kept exactly, final newline included.
        if text.trim_end_matches('\n').contains('\n') {
            Ok(text.into_bytes())
        } else {
            Ok(text.trim_end_matches(['\n', '\r']).as_bytes().to_vec())
        }
    }

    fn generate(&mut self, alphabet: Alphabet, length: u32) -> Vec<u8> {
        generate(alphabet, length, &mut os_bytes::<64>)
    }
}

use std::io::BufRead;

/// `length` characters drawn uniformly from `alphabet`, by rejection sampling over
/// `bytes` (so no character is more likely than another).
pub fn generate(alphabet: Alphabet, length: u32, bytes: &mut dyn FnMut() -> [u8; 64]) -> Vec<u8> {
    let chars = alphabet.chars();
    let n = chars.len();
    // The largest multiple of n that fits in a byte: bytes at or above it are dropped.
    let limit = 256 - 256 % n;
    let mut out = Vec::with_capacity(length as usize);
    while out.len() < length as usize {
        for b in bytes() {
            if (b as usize) < limit && out.len() < length as usize {
                out.push(chars[b as usize % n]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_the_length_and_alphabet_asked_for() {
        for alphabet in [Alphabet::Hex, Alphabet::Alphanumeric, Alphabet::Base64] {
            let v = System::default().generate(alphabet, 40);
            assert_eq!(v.len(), 40);
            assert!(
                v.iter().all(|c| alphabet.chars().contains(c)),
                "{alphabet:?}"
            );
        }
        let a = System::default().generate(Alphabet::Hex, 40);
        let b = System::default().generate(Alphabet::Hex, 40);
        assert_ne!(a, b);
    }

    #[test]
    fn rejection_sampling_drops_bytes_that_would_bias_the_draw() {
        // 62 characters: bytes 248..=255 would make the first 8 more likely.
        let mut calls = 0;
        let mut source = || {
            calls += 1;
            let mut b = [255u8; 64];
            b[0] = 61;
            b[1] = 248;
            b[2] = 0;
            b
        };
        let v = generate(Alphabet::Alphanumeric, 2, &mut source);
        assert_eq!(v, b"9A");
        assert_eq!(calls, 1);
    }
}
