//! `environments/sealed/<env>.yaml`: the sealed values of one environment, written by
//! `kiln seal`, committed, and embedded by `kiln build` into the SealedSecrets.
//!
//! ```yaml
//! clusters:
//!   homelab:
//!     certificate: sha256:5f0c...   # the controller certificate last sealed with
//!     namespaces:
//!       invoicetron-prod:
//!         invoicetron-db:
//!           postgres-password:
//!             source: 3b8e0f6a9d2c1e47   # fingerprint of where the value came from
//!             value: AgB2...              # the sealed value (base64)
//! ```
//!
//! The file lives in a subdirectory of `environments/` (the model loader reads only
//! top-level files) and is read at load time, so renderers stay free of I/O.
//!
//! # The `source` fingerprint
//!
//! `kiln seal` must not re-seal a value that has not changed (a fresh seal is new
//! random bytes: pure churn in git). It decides from the fingerprint of the value's
//! *source definition* (the 1Password reference, generator, template text, scope, and
//! recursively the sources a template uses), never from the plaintext: a sha256 of the
//! plaintext in a committed file lets anyone test guesses offline, which breaks
//! low-entropy values (a short password, a username); an HMAC would need a key kept
//! outside the repository, which nobody would manage. The fingerprint is computed from
//! the model alone, so it reveals nothing the model does not already say. A value that
//! changes at its source while its definition stays the same (a token rotated in
//! 1Password) is re-sealed on request: `kiln seal --rotate SECRET`.

use crate::diagnostic::checks::{SEALED_FILE, UNUSED_SEALED_VALUE};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::model::files::Files;
use crate::model::secret_placement::registry_of;
use crate::model::{Environment, KeySource, Name, Project, SecretType, TemplatePart};
use crate::secrets::cert::hex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The key a `docker-registry` secret's single sealed value has.
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";

/// Namespace → secret → data key → sealed value.
pub type Namespaces = BTreeMap<String, BTreeMap<String, BTreeMap<String, SealedValue>>>;

/// The sealed values of one environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SealedFile {
    /// Per cluster.
    #[serde(default)]
    pub clusters: BTreeMap<String, SealedCluster>,
}

/// The sealed values for one cluster's controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SealedCluster {
    /// `sha256:<hex>` of the certificate the values were last sealed with.
    pub certificate: String,
    /// Namespace → secret → data key → sealed value.
    #[serde(default)]
    pub namespaces: Namespaces,
}

/// One sealed value.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SealedValue {
    /// Fingerprint of the value's source definition (see the module docs).
    pub source: String,
    /// The sealed value, base64, as in `spec.encryptedData`.
    pub value: String,
}

impl SealedFile {
    /// The sealed value of `key` of `secret` in `namespace` of `cluster`.
    pub fn get(
        &self,
        cluster: &str,
        namespace: &str,
        secret: &str,
        key: &str,
    ) -> Option<&SealedValue> {
        self.clusters
            .get(cluster)?
            .namespaces
            .get(namespace)?
            .get(secret)?
            .get(key)
    }

    /// The file's text: a header, then the YAML.
    pub fn to_text(&self, env: &str) -> String {
        let mut text = format!(
            "# Sealed values of environment `{env}`, written by `kiln seal`; `kiln build` embeds them.\n\
             # Each value is encrypted for one cluster's Sealed Secrets controller and scope: only\n\
             # that controller can decrypt it, so this file is safe to commit. Do not edit.\n"
        );
        text.push_str(&crate::yaml::write::to_string(self));
        text
    }
}

/// Every environment's sealed values, by environment name.
#[derive(Clone, Debug, Default)]
pub struct Sealed {
    /// Environment → its file (environments without a file are absent).
    pub envs: BTreeMap<String, SealedFile>,
}

impl Sealed {
    /// The sealed values of `env` (empty when it has no file).
    pub fn env(&self, env: &str) -> &SealedFile {
        static EMPTY: SealedFile = SealedFile {
            clusters: BTreeMap::new(),
        };
        self.envs.get(env).unwrap_or(&EMPTY)
    }
}

/// `root/environments/sealed/<env>.yaml`.
pub fn path(root: &Path, env: &str) -> PathBuf {
    root.join("environments")
        .join("sealed")
        .join(format!("{env}.yaml"))
}

/// Reads the sealed values of every environment of `project`. A file that cannot be
/// parsed is an error located in it; a file for an environment that does not exist is
/// a warning.
pub fn load(root: &Path, project: &mut Project) -> (Sealed, Diagnostics) {
    load_files(&Files::read(root), project)
}

/// [`load`], from the model's input files (the working tree's or a git revision's).
pub fn load_files(files: &Files, project: &mut Project) -> (Sealed, Diagnostics) {
    let mut sealed = Sealed::default();
    let mut diags = Diagnostics::default();
    // An unreadable sealed/ folder is not an empty one: every SealedSecret would go.
    for d in crate::model::load::problems(files, &mut project.sources, |p| {
        crate::model::files::is_under(p, crate::model::load::SEALED_DIR)
    }) {
        diags.push(d);
    }
    for (name, entry) in files.dir("environments/sealed") {
        let p = Path::new(name);
        if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let rel = format!("environments/sealed/{name}");
        let display = files.source_path(&rel);
        let id = match crate::model::load::add_source(entry, &display, &mut project.sources) {
            Ok(id) => id,
            Err(d) => {
                diags.push(*d);
                continue;
            }
        };
        let text = &project.sources.file(id).text;
        if project.environment(&stem).is_none() {
            diags.push(
                Diagnostic::warning(
                    UNUSED_SEALED_VALUE,
                    format!("sealed values for `{stem}`, which is not an environment"),
                )
                .at(Some(Span::new(id, 0, 0)))
                .help("delete the file, or add the environment back"),
            );
            continue;
        }
        match serde_saphyr::from_str::<SealedFile>(text) {
            Ok(file) => {
                let bad = bad_layouts(&file);
                if !bad.is_empty() {
                    let text = text.clone();
                    diags.extend(layout_errors(
                        &file,
                        bad,
                        &display,
                        &text,
                        &mut project.sources,
                    ));
                }
                sealed.envs.insert(stem, file);
            }
            Err(e) => diags.push(parse_error(&e, id, &project.sources)),
        }
    }
    (sealed, diags)
}

/// A value's place in the file (cluster, namespace, secret, key) and what is wrong.
type BadValue<'a> = ([&'a String; 4], String);

/// The values of `file` that do not have the layout of a sealed value
/// ([`crate::secrets::seal::check_layout`]): a token or password pasted in its place
/// would otherwise be embedded as `encryptedData`, marked as ciphertext for scanners.
fn bad_layouts(file: &SealedFile) -> Vec<BadValue<'_>> {
    let mut bad = Vec::new();
    for (cluster, c) in &file.clusters {
        for (namespace, secrets) in &c.namespaces {
            for (secret, keys) in secrets {
                for (key, v) in keys {
                    if let Err(why) = crate::secrets::seal::check_layout(&v.value) {
                        bad.push(([cluster, namespace, secret, key], why));
                    }
                }
            }
        }
    }
    bad
}

/// An error for each of `bad`, pointing into a copy of the file whose values are
/// masked, so that no diagnostic ever shows what was pasted.
fn layout_errors(
    file: &SealedFile,
    bad: Vec<BadValue<'_>>,
    display: &Path,
    text: &str,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let parsed = crate::yaml::parse(crate::diagnostic::FileId(0), text).ok();
    let value_at = |path: &[&String; 4]| {
        let node = parsed
            .as_ref()?
            .get("clusters")?
            .get(path[0])?
            .get("namespaces")?;
        let node = node
            .get(path[1])?
            .get(path[2])?
            .get(path[3])?
            .get("value")?;
        Some(node.span.range())
    };
    let mut masked = text.as_bytes().to_vec();
    let len = masked.len();
    let mut mask = |range: std::ops::Range<usize>| {
        for b in &mut masked[range.start.min(len)..range.end.min(len)] {
            if *b != b'\n' {
                *b = b'*';
            }
        }
    };
    match &parsed {
        Some(_) => {
            for (cluster, c) in &file.clusters {
                for (namespace, secrets) in &c.namespaces {
                    for (secret, keys) in secrets {
                        for key in keys.keys() {
                            if let Some(r) = value_at(&[cluster, namespace, secret, key]) {
                                mask(r);
                            }
                        }
                    }
                }
            }
        }
        None => mask(0..len),
    }
    // Only ASCII bytes were written over whole characters' bytes: still UTF-8.
    let masked = String::from_utf8_lossy(&masked).into_owned();
    let id = sources.add(display, masked);
    let shown = |s: &str| {
        if !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            s.to_owned()
        } else {
            "…".to_owned()
        }
    };
    bad.into_iter()
        .map(|(path, why)| {
            let range = value_at(&path).unwrap_or(0..0);
            Diagnostic::error(
                SEALED_FILE,
                format!(
                    "the sealed value of `{}.{}` in namespace `{}` on cluster `{}` is not a Sealed Secrets ciphertext: {why}",
                    shown(path[2]),
                    shown(path[3]),
                    shown(path[1]),
                    shown(path[0])
                ),
            )
            .at(Some(Span::new(id, range.start, range.end)))
            .help("only `kiln seal` (or kubeseal) writes sealed values: restore the file from git, or delete this entry and seal the key again with `kiln seal --cert CERT.pem`")
        })
        .collect()
}

fn parse_error(
    e: &serde_saphyr::Error,
    id: crate::diagnostic::FileId,
    sources: &SourceMap,
) -> Diagnostic {
    let text = &sources.file(id).text;
    let span = e.location().map(|l| {
        let start: usize = text
            .split_inclusive('\n')
            .take((l.line() as usize).saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            + (l.column() as usize).saturating_sub(1);
        let start = start.min(text.len());
        Span::new(id, start, start)
    });
    let message = e.to_string();
    let first = message.lines().next().unwrap_or_default().to_owned();
    Diagnostic::error(
        SEALED_FILE,
        format!("the sealed values file is not valid: {first}"),
    )
    .at(span.or(Some(Span::new(id, 0, 0))))
    .help("this file is written by `kiln seal`; restore it from git, or delete it and seal again")
}

/// The keys of a secret's `encryptedData`: its model keys, or `.dockerconfigjson` for
/// a `docker-registry` secret.
pub fn data_keys(env: &Environment, secret: &Name) -> Vec<String> {
    match env.model.secrets.get(secret) {
        None => Vec::new(),
        Some(s) if s.kind == SecretType::DockerRegistry => vec![DOCKER_CONFIG_KEY.to_owned()],
        Some(s) => s.keys.keys().cloned().collect(),
    }
}

/// The fingerprint of where a data key's value comes from (see the module docs).
pub fn source_fingerprint(env: &Environment, secret: &Name, data_key: &str) -> String {
    let mut desc = String::new();
    if let Some(s) = env.model.secrets.get(secret) {
        desc.push_str(&format!("scope {:?}\n", s.scope));
        if s.kind == SecretType::DockerRegistry && data_key == DOCKER_CONFIG_KEY {
            let host = registry_of(env, secret).map_or("", |(_, h)| h);
            desc.push_str(&format!("dockerconfigjson {host}\n"));
            for key in ["username", "password"] {
                describe(env, secret.as_str(), key, &mut desc, 0);
            }
        } else {
            describe(env, secret.as_str(), data_key, &mut desc, 0);
        }
    }
    hex(&Sha256::digest(desc.as_bytes())[..8])
}

fn describe(env: &Environment, secret: &str, key: &str, out: &mut String, depth: usize) {
    out.push_str(&format!("{secret}.{key}: "));
    let source = env.model.secrets.get(secret).and_then(|s| s.keys.get(key));
    match source {
        None => out.push_str("undefined\n"),
        Some(KeySource::OnePassword(o)) => out.push_str(&format!("op {}\n", o.op)),
        Some(KeySource::Generate(g)) => out.push_str(&format!(
            "generate {} {}\n",
            g.generate.alphabet.as_str(),
            g.generate.length
        )),
        Some(KeySource::Manual(_)) => out.push_str("manual\n"),
        Some(KeySource::Template(t)) => {
            out.push_str(&format!("template {:?}\n", t.template));
            // Cycles are reported by the checks; the depth bound only keeps this finite.
            if depth < 16 {
                for part in t.parts().unwrap_or_default() {
                    if let TemplatePart::Key { secret: s, key: k } = part {
                        let s = s.unwrap_or_else(|| secret.to_owned());
                        describe(env, &s, &k, out, depth + 1);
                    }
                }
            }
        }
    }
}
