//! What `kiln seal` does for one environment: decide which values are new, changed or
//! rotated, obtain exactly those plaintexts (and what they are composed from), seal
//! them for every placement, and return the updated [`SealedFile`].
//!
//! Nothing is written here; the command writes the file only when every environment
//! sealed without error. Plaintexts live in memory only for the duration of the run.
//!
//! A generated value exists nowhere but sealed, so it cannot be sealed again later for
//! a second namespace: whenever a generated key is (re)generated, every placement and
//! every template that uses it is sealed again in the same run, so all copies agree.

use super::cert::Certificate;
use super::keys::{manual_var, scope, used_in_url, value_order};
use super::seal::{Randomness, seal_base64};
use super::sealed_file::{
    DOCKER_CONFIG_KEY, SealedFile, SealedValue, data_keys, source_fingerprint,
};
use crate::diagnostic::Diagnostic;
use crate::diagnostic::checks::SEAL;
use crate::model::secret_placement::{SecretPlacement, placements, registry_of};
use crate::model::{Alphabet, Environment, KeySource, Name, SecretType, TemplatePart};
use std::collections::{BTreeMap, BTreeSet};

/// Where plaintext comes from. [`super::values::System`] asks the `op` CLI, the
/// environment or standard input, and the OS random source; tests use fixed values.
pub trait Obtain {
    /// The value a 1Password reference names.
    fn op(&mut self, reference: &str) -> Result<Vec<u8>, String>;
    /// A value a person enters for `secret.key` (`hint` says where to find it; `var`
    /// is the environment variable it may come from).
    fn manual(&mut self, id: &str, hint: &str, var: &str) -> Result<Vec<u8>, String>;
    /// `length` characters drawn uniformly from `alphabet`.
    fn generate(&mut self, alphabet: Alphabet, length: u32) -> Vec<u8>;
}

/// Why a value is sealed in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// It had no sealed value.
    New,
    /// Its definition in the model changed since it was sealed.
    Changed,
    /// `--rotate` asked for it.
    Rotated,
    /// A value it is made from was (re)generated or rotated in this run.
    Follows,
}

impl Why {
    /// A word for the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::New => "new",
            Why::Changed => "changed",
            Why::Rotated => "rotated",
            Why::Follows => "follows a value sealed anew",
        }
    }
}

/// One value sealed in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Cluster, namespace, secret, data key.
    pub at: (String, String, String, String),
    /// Why.
    pub why: Why,
}

/// The result for one environment.
#[derive(Debug)]
pub struct Outcome {
    /// The file to write.
    pub file: SealedFile,
    /// What was sealed, sorted.
    pub sealed: Vec<Sealed>,
    /// Values kept as they were.
    pub kept: usize,
    /// Values removed because the model no longer places them.
    pub removed: usize,
    /// Generated keys (`secret.key`) that had sealed values before and got a new value:
    /// wherever the old one is in use (a database's password) it must change too.
    pub regenerated: Vec<String>,
}

/// What to seal: every placed secret, or only `only`; `rotate` re-seals them even
/// when unchanged (with new generated values).
pub struct Request<'a> {
    /// Secret names to consider; empty means all.
    pub only: &'a [String],
    /// Seal again even what is current.
    pub rotate: bool,
    /// The certificate of each cluster.
    pub certs: &'a BTreeMap<String, Certificate>,
}

type Slot = (usize, String);

/// Seals what `request` asks for in `env`, starting from `existing`.
pub fn seal_env(
    env: &Environment,
    existing: &SealedFile,
    request: &Request<'_>,
    obtain: &mut dyn Obtain,
    rng: &mut dyn Randomness,
) -> Result<Outcome, Vec<Diagnostic>> {
    let placed = placements(env);
    let wanted = |secret: &Name| {
        request.only.is_empty() || request.only.iter().any(|s| s == secret.as_str())
    };
    // 1. Which (placement, data key) slots need sealing, and why.
    let mut dirty: BTreeMap<Slot, Why> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        for key in data_keys(env, &p.secret) {
            let current = existing.get(p.cluster.as_str(), &p.namespace, p.secret.as_str(), &key);
            let why = match current {
                _ if request.rotate && wanted(&p.secret) => Some(Why::Rotated),
                None => Some(Why::New),
                Some(v) if v.source != source_fingerprint(env, &p.secret, &key) => {
                    Some(Why::Changed)
                }
                Some(_) => None,
            };
            // Secrets not asked for are sealed only when they must follow (step 2).
            if let Some(why) = why
                && wanted(&p.secret)
            {
                dirty.insert((i, key), why);
            }
        }
    }
    // 2. A value obtained fresh (generated, or of a rotated secret) must reach every
    //    slot that uses it, so all copies agree.
    loop {
        let fresh: BTreeSet<(String, String)> = dirty
            .iter()
            .flat_map(|((i, key), _)| {
                let p = &placed[*i];
                value_order(env, &p.secret, key)
                    .into_iter()
                    .filter(|(s, k)| is_fresh(env, s, k, request))
            })
            .collect();
        let mut added = false;
        for (i, p) in placed.iter().enumerate() {
            for key in data_keys(env, &p.secret) {
                if dirty.contains_key(&(i, key.clone())) {
                    continue;
                }
                if value_order(env, &p.secret, &key)
                    .iter()
                    .any(|id| fresh.contains(id))
                {
                    dirty.insert((i, key), Why::Follows);
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    // 3. Obtain every model key the dirty slots are made from, inputs first.
    let mut problems = Vec::new();
    let mut values: BTreeMap<(String, String), Vec<u8>> = BTreeMap::new();
    for (i, key) in dirty.keys() {
        let p = &placed[*i];
        for (s, k) in value_order(env, &p.secret, key) {
            if values.contains_key(&(s.clone(), k.clone())) {
                continue;
            }
            match obtain_one(env, &s, &k, &values, obtain) {
                Ok(v) => {
                    values.insert((s, k), v);
                }
                Err(d) => {
                    problems.push(*d);
                    // Record something so dependants report their own problems only.
                    values.insert((s, k), Vec::new());
                }
            }
        }
    }
    let mut certs_needed = BTreeSet::new();
    for (i, _) in dirty.keys() {
        let cluster = placed[*i].cluster.as_str();
        if !request.certs.contains_key(cluster) && certs_needed.insert(cluster.to_owned()) {
            problems.push(
                Diagnostic::error(SEAL, format!("no certificate for cluster `{cluster}`"))
                    .at(env.key_span(&format!("/clusters/{cluster}")))
                    .help(format!("pass `--cert {cluster}=CERT.pem` (or one `--cert CERT.pem` for every cluster)")),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // 4. Seal, starting from the existing file minus what the model no longer places.
    let mut file = existing.clone();
    let removed = prune(env, &placed, &mut file);
    let mut sealed = Vec::new();
    for ((i, key), why) in &dirty {
        let p = &placed[*i];
        let plaintext = match data_value(env, p, key, &values) {
            Ok(v) => v,
            Err(d) => {
                problems.push(*d);
                continue;
            }
        };
        let cert = &request.certs[p.cluster.as_str()];
        let secret_scope = env
            .model
            .secrets
            .get(&p.secret)
            .map(|s| scope(s.scope))
            .unwrap_or(super::seal::Scope::Strict);
        let label = secret_scope.label(&p.namespace, p.secret.as_str());
        let value = seal_base64(cert.key(), &plaintext, &label, rng).map_err(|e| {
            vec![Diagnostic::error(
                SEAL,
                format!("cannot seal `{}.{key}`: {e}", p.secret),
            )]
        })?;
        let cluster = file.clusters.entry(p.cluster.to_string()).or_default();
        cluster.certificate = cert.fingerprint().to_owned();
        cluster
            .namespaces
            .entry(p.namespace.clone())
            .or_default()
            .entry(p.secret.to_string())
            .or_default()
            .insert(
                key.clone(),
                SealedValue {
                    source: source_fingerprint(env, &p.secret, key),
                    value,
                },
            );
        sealed.push(Sealed {
            at: (
                p.cluster.to_string(),
                p.namespace.clone(),
                p.secret.to_string(),
                key.clone(),
            ),
            why: *why,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let total: usize = placed.iter().map(|p| data_keys(env, &p.secret).len()).sum();
    let regenerated = values
        .keys()
        .filter(|(s, k)| {
            matches!(
                env.model
                    .secrets
                    .get(s.as_str())
                    .and_then(|x| x.keys.get(k)),
                Some(KeySource::Generate(_))
            ) && placed.iter().any(|p| {
                p.secret.as_str() == s
                    && existing
                        .get(p.cluster.as_str(), &p.namespace, s, k)
                        .is_some()
            })
        })
        .map(|(s, k)| format!("{s}.{k}"))
        .collect();
    Ok(Outcome {
        file,
        kept: total - sealed.len(),
        sealed,
        removed,
        regenerated,
    })
}

/// Whether `secret.key` gets a new value when obtained in this run (so everything
/// using it must be sealed again): generated values always do; 1Password and manual
/// values when their secret is rotated.
fn is_fresh(env: &Environment, s: &str, k: &str, request: &Request<'_>) -> bool {
    match env.model.secrets.get(s).and_then(|x| x.keys.get(k)) {
        Some(KeySource::Generate(_)) => true,
        Some(KeySource::Template(_)) | None => false,
        Some(_) => {
            request.rotate && (request.only.is_empty() || request.only.iter().any(|o| o == s))
        }
    }
}

fn obtain_one(
    env: &Environment,
    secret: &str,
    key: &str,
    values: &BTreeMap<(String, String), Vec<u8>>,
    obtain: &mut dyn Obtain,
) -> Result<Vec<u8>, Box<Diagnostic>> {
    let pointer = format!("/secrets/{secret}/keys/{key}");
    let id = format!("{secret}.{key}");
    let fail = |message: String| Box::new(Diagnostic::error(SEAL, message).at(env.span(&pointer)));
    let value = match env.model.secrets.get(secret).and_then(|s| s.keys.get(key)) {
        None => return Err(fail(format!("`{id}` is not defined"))),
        Some(KeySource::OnePassword(o)) => obtain
            .op(&o.op)
            .map_err(|e| fail(format!("cannot read `{id}` from 1Password: {e}")))?,
        Some(KeySource::Manual(m)) => obtain
            .manual(&id, &m.manual, &manual_var(secret, key))
            .map_err(|e| fail(format!("no value for `{id}`: {e}")))?,
        Some(KeySource::Generate(g)) => obtain.generate(g.generate.alphabet, g.generate.length),
        Some(KeySource::Template(t)) => {
            let mut out = Vec::new();
            for part in t.parts().unwrap_or_default() {
                match part {
                    TemplatePart::Text(text) => out.extend_from_slice(text.as_bytes()),
                    TemplatePart::Key { secret: s, key: k } => {
                        let s = s.unwrap_or_else(|| secret.to_owned());
                        match values.get(&(s.clone(), k.clone())) {
                            Some(v) => out.extend_from_slice(v),
                            None => {
                                return Err(fail(format!(
                                    "`{id}` uses `{s}.{k}`, which has no value"
                                )));
                            }
                        }
                    }
                }
            }
            out
        }
    };
    if value.is_empty()
        && !matches!(
            env.model.secrets.get(secret).and_then(|s| s.keys.get(key)),
            Some(KeySource::Template(_))
        )
    {
        return Err(fail(format!(
            "`{id}` is empty; kiln does not seal empty values"
        )));
    }
    if used_in_url(env, secret, key) && !value.iter().all(|b| crate::model::is_url_safe_byte(*b)) {
        return Err(Box::new(
            Diagnostic::error(SEAL, format!("the value of `{id}` has characters a URL cannot hold, and a URL template uses it"))
                .at(env.span(&pointer))
                .help("use only letters, digits and `-._~` (e.g. `openssl rand -hex 20`), then seal again"),
        ));
    }
    Ok(value)
}

/// The plaintext of one data key: a model key's value, or `.dockerconfigjson`.
fn data_value(
    env: &Environment,
    p: &SecretPlacement,
    key: &str,
    values: &BTreeMap<(String, String), Vec<u8>>,
) -> Result<Vec<u8>, Box<Diagnostic>> {
    let secret = p.secret.as_str();
    let get = |k: &str| {
        values
            .get(&(secret.to_owned(), k.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    let is_docker = env
        .model
        .secrets
        .get(&p.secret)
        .is_some_and(|s| s.kind == SecretType::DockerRegistry);
    if is_docker && key == DOCKER_CONFIG_KEY {
        let host = registry_of(env, &p.secret)
            .map(|(_, h)| h.to_owned())
            .unwrap_or_default();
        return Ok(docker_config(&host, &get("username"), &get("password")));
    }
    Ok(get(key))
}

/// `.dockerconfigjson` as `kubectl create secret docker-registry` writes it.
pub fn docker_config(host: &str, username: &[u8], password: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let user = String::from_utf8_lossy(username);
    let pass = String::from_utf8_lossy(password);
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    // serde_json keeps insertion order only with preserve_order; build it by hand with
    // JSON-escaped strings to keep kubectl's field order.
    let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    format!(
        "{{\"auths\":{{{}:{{\"username\":{},\"password\":{},\"auth\":{}}}}}}}",
        q(host),
        q(&user),
        q(&pass),
        q(&auth)
    )
    .into_bytes()
}

/// Removes values the model no longer places; returns how many.
fn prune(env: &Environment, placed: &[SecretPlacement], file: &mut SealedFile) -> usize {
    let mut removed = 0;
    for (cluster, c) in &mut file.clusters {
        for (namespace, secrets) in &mut c.namespaces {
            for (secret, keys) in secrets.iter_mut() {
                let here = placed.iter().find(|p| {
                    p.cluster.as_str() == cluster
                        && &p.namespace == namespace
                        && p.secret.as_str() == secret
                });
                let allowed: Vec<String> =
                    here.map(|p| data_keys(env, &p.secret)).unwrap_or_default();
                let before = keys.len();
                keys.retain(|k, _| allowed.contains(k));
                removed += before - keys.len();
            }
            secrets.retain(|_, keys| !keys.is_empty());
        }
        c.namespaces.retain(|_, secrets| !secrets.is_empty());
    }
    file.clusters.retain(|_, c| !c.namespaces.is_empty());
    removed
}
