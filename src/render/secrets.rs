//! The `secrets` target: a SealedSecret for every secret placed on a cluster, one
//! self-contained Kustomize directory per cluster and namespace, and `seal.sh`, the
//! kubeseal version of `kiln seal`.
//!
//! Layout under `out/secrets/`:
//! - `<cluster>/<namespace>/kustomization.yaml` listing the namespace's SealedSecrets;
//! - `<cluster>/<namespace>/sealedsecret-<name>.yaml`;
//! - `seal.sh`.
//!
//! Which namespaces get which secret comes from [`placements`]. The encrypted values
//! come from `environments/sealed/<env>.yaml` (read at load time into
//! [`Context::sealed`]). A secret whose values are not all sealed yet is left out with
//! a warning: a SealedSecret without `encryptedData` would create an empty Secret and
//! fail at run time instead, while the first `kiln build` of a new model must succeed
//! before anything can be sealed (the controller's certificate comes from a cluster
//! that the build's own output sets up).

use super::kubernetes::labels::{MANAGED_BY, PART_OF};
use super::{Contents, Context, OutputTree, Target, yaml};
use crate::crd::sealed_secret::{SealedSecret, SealedSecretSpec, SecretTemplate};
use crate::crd::{ObjectMeta, Spec};
use crate::diagnostic::checks::{SEALED_VALUE_OUTDATED, SECRET_NOT_SEALED, UNUSED_SEALED_VALUE};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::layout::{self, Provenance};
use crate::model::secret_placement::{SecretPlacement, placements, registry_of};
use crate::model::{Environment, KeySource, Name, SecretType, TemplatePart};
use crate::secrets::keys::{UrlKeys, manual_var, scope, value_order};
use crate::secrets::sealed_file::{self, DOCKER_CONFIG_KEY, data_keys, source_fingerprint};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The environments of `names`, in the project's order.
fn in_project_order(cx: &Context<'_>, names: &BTreeSet<String>) -> Vec<String> {
    cx.project
        .environments
        .iter()
        .map(|e| e.name.to_string())
        .filter(|e| names.contains(e))
        .collect()
}

/// One `out/secrets/<cluster>/<namespace>/` folder, gathered across environments.
#[derive(Default)]
struct NamespaceDir {
    files: std::collections::BTreeSet<String>,
    envs: std::collections::BTreeSet<String>,
    sources: Vec<String>,
}

/// The secrets target.
pub struct Secrets;

/// The target's id.
const ID: &str = "secrets";

impl Target for Secrets {
    fn id(&self) -> &'static str {
        ID
    }

    fn description(&self) -> &'static str {
        "SealedSecrets per cluster and namespace (values sealed by `kiln seal`), and seal.sh for kubeseal users"
    }

    fn render(&self, cx: &Context<'_>, out: &mut OutputTree, diags: &mut Diagnostics) {
        let mut by_cluster: BTreeMap<String, (std::collections::BTreeSet<String>, Vec<String>)> =
            BTreeMap::new();
        // Cluster → the environments placing secrets there.
        let mut cluster_envs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Namespace folders across environments: (cluster, namespace) → files, the
        // environments writing there, their sources. A shared namespace such as
        // flux-system gets each secret once, from the first environment placing it
        // (`validate::secrets` makes sure the environments define it alike).
        let mut dirs: BTreeMap<(String, String), NamespaceDir> = BTreeMap::new();
        for env in &cx.project.environments {
            let sealed = cx.sealed.env(env.name.as_str());
            let placed = placements(env);
            let mut sources = env.sources.clone();
            if cx.sealed.envs.contains_key(env.name.as_str()) {
                sources.push(format!("environments/sealed/{}.yaml", env.name));
            }
            for p in &placed {
                let dir = dirs
                    .entry((p.cluster.to_string(), p.namespace.clone()))
                    .or_default();
                dir.envs.insert(env.name.to_string());
                dir.sources.extend(sources.iter().cloned());
                let file = layout::sealed_secret_file(p.secret.as_str());
                if dir.files.contains(&file) {
                    continue;
                }
                if let Some(object) = sealed_secret(env, p, sealed, diags) {
                    out.add(
                        layout::sealed_secret(p.cluster.as_str(), &p.namespace, p.secret.as_str()),
                        Contents {
                            bytes: yaml::file_comments_above(&sources, &SealedDoc::of(&object)),
                            data: Some(yaml::to_data(&object)),
                        },
                        &Provenance::new(ID)
                            .of_env(env.name.as_str())
                            .on_cluster(p.cluster.as_str()),
                    );
                    dir.files.insert(file);
                }
            }
            report_obsolete(cx, env, &placed, sealed, diags);
        }
        for (
            (cluster, namespace),
            NamespaceDir {
                files,
                envs,
                mut sources,
            },
        ) in dirs
        {
            sources.sort();
            sources.dedup();
            let entry = by_cluster.entry(cluster.clone()).or_default();
            entry.0.insert(namespace.clone());
            entry.1.extend(sources.iter().cloned());
            let owner = if envs.len() == 1 {
                envs.iter().next().map(String::as_str)
            } else {
                None
            };
            let in_envs = in_project_order(cx, &envs);
            cluster_envs
                .entry(cluster.clone())
                .or_default()
                .extend(in_envs.iter().cloned());
            out.add(
                layout::kustomization(&layout::secrets_namespace(&cluster, &namespace)),
                yaml::typed(
                    &sources,
                    &super::kubernetes::kustomize::plain_kustomization(files.into_iter().collect()),
                ),
                &Provenance::new(ID)
                    .from_envs(in_envs)
                    .on_cluster(&cluster)
                    .owned_by(owner),
            );
        }
        // One folder per cluster that Flux's `secrets` Kustomization applies.
        for (cluster, (namespaces, mut sources)) in by_cluster {
            sources.sort();
            sources.dedup();
            out.add(
                layout::kustomization(&layout::secrets(&cluster)),
                yaml::typed(
                    &sources,
                    &super::kubernetes::kustomize::plain_kustomization(
                        namespaces.into_iter().collect(),
                    ),
                ),
                &Provenance::new(ID)
                    .from_envs(in_project_order(cx, &cluster_envs[&cluster]))
                    .on_cluster(&cluster),
            );
        }
        match cx
            .templates
            .render("secrets/seal.sh.j2", seal_script(cx), &cx.project.sources)
        {
            Ok(text) => {
                out.add_script(layout::SEAL_SCRIPT, text.into_bytes(), &Provenance::new(ID))
            }
            Err(d) => diags.push(*d),
        }
    }
}

/// The SealedSecret of one placement, or `None` (with a warning) while some of its
/// values are not sealed.
fn sealed_secret(
    env: &Environment,
    p: &SecretPlacement,
    sealed: &sealed_file::SealedFile,
    diags: &mut Diagnostics,
) -> Option<SealedSecret> {
    let secret = env.model.secrets.get(&p.secret)?;
    let mut encrypted = BTreeMap::new();
    let mut missing = Vec::new();
    for key in data_keys(env, &p.secret) {
        match sealed.get(p.cluster.as_str(), &p.namespace, p.secret.as_str(), &key) {
            Some(v) => {
                if v.source != source_fingerprint(env, &p.secret, &key) {
                    diags.push(
                        Diagnostic::warning(
                            SEALED_VALUE_OUTDATED,
                            format!(
                                "the sealed value of `{}.{key}` in namespace `{}` was made from an older definition of the key",
                                p.secret, p.namespace
                            ),
                        )
                        .at(env.key_span(&key_pointer(env, &p.secret, &key)))
                        .help(format!("seal it again: `kiln seal --cert CERT.pem --env {} {}`", env.name, p.secret)),
                    );
                }
                encrypted.insert(key, v.value.clone());
            }
            None => missing.push(key),
        }
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::warning(
                SECRET_NOT_SEALED,
                format!(
                    "secret `{}` has no sealed value for {} in namespace `{}` on cluster `{}`; its SealedSecret is left out",
                    p.secret,
                    missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    p.namespace,
                    p.cluster
                ),
            )
            .at(env.key_span(&format!("/secrets/{}", p.secret)))
            .help(format!(
                "seal it with the controller's certificate (`kubeseal --fetch-cert > cert.pem`): `kiln seal --cert cert.pem --env {} {}`",
                env.name, p.secret
            )),
        );
        return None;
    }
    let scope = scope(secret.scope);
    let annotations = scope
        .annotation()
        .map(|a| BTreeMap::from([(a.to_owned(), "true".to_owned())]));
    let mut labels = BTreeMap::from([(MANAGED_BY.to_owned(), "kiln".to_owned())]);
    let groups: BTreeSet<&Name> = p
        .reasons
        .iter()
        .filter_map(|r| {
            env.model
                .apps
                .get(r.app())
                .map(|a| env.model.group(r.app(), a))
        })
        .collect();
    if let [group] = groups.into_iter().collect::<Vec<_>>()[..] {
        labels.insert(PART_OF.to_owned(), group.to_string());
    }
    let metadata = ObjectMeta {
        annotations,
        labels: Some(labels),
        name: Some(p.secret.to_string()),
        namespace: Some(p.namespace.clone()),
        ..ObjectMeta::default()
    };
    Some(SealedSecret {
        metadata: metadata.clone(),
        spec: SealedSecretSpec {
            encrypted_data: encrypted,
            template: SecretTemplate {
                data: BTreeMap::new(),
                metadata,
                type_: Some(secret.kind.kubernetes().to_owned()),
            },
        },
    })
}

/// A SealedSecret as written: each sealed value carries, on the line above it, the
/// suppression secret scanners (checkov's `CKV_SECRET_6`) read: it is ciphertext only
/// the cluster's controller can open, not a secret in the clear.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SealedDoc<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: &'a ObjectMeta,
    spec: SealedSpecDoc<'a>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SealedSpecDoc<'a> {
    encrypted_data: BTreeMap<String, EncryptedValue>,
    template: &'a SecretTemplate,
}

/// A value of `encryptedData`: with the scanners' suppression only when it has the
/// layout of a sealed value (loading refuses any other, so this is the second line).
#[derive(serde::Serialize)]
#[serde(untagged)]
enum EncryptedValue {
    Sealed(serde_saphyr::Commented<String>),
    Unchecked(String),
}

/// Why scanners may skip a sealed value.
const SEALED_SKIP: &str = "checkov:skip=CKV_SECRET_6: sealed with the cluster's Sealed Secrets certificate; only its controller can decrypt it";

impl<'a> SealedDoc<'a> {
    fn of(object: &'a SealedSecret) -> Self {
        let encrypted_data = object
            .spec
            .encrypted_data
            .iter()
            .map(|(k, v)| {
                let value = if crate::secrets::seal::check_layout(v).is_ok() {
                    EncryptedValue::Sealed(serde_saphyr::Commented(
                        v.clone(),
                        SEALED_SKIP.to_owned(),
                    ))
                } else {
                    EncryptedValue::Unchecked(v.clone())
                };
                (k.clone(), value)
            })
            .collect();
        SealedDoc {
            api_version: SealedSecretSpec::API_VERSION,
            kind: SealedSecretSpec::KIND,
            metadata: &object.metadata,
            spec: SealedSpecDoc {
                encrypted_data,
                template: &object.spec.template,
            },
        }
    }
}

/// The pointer of a data key in the model (`.dockerconfigjson` points at the secret).
fn key_pointer(env: &Environment, secret: &Name, key: &str) -> String {
    match env.model.secrets.get(secret) {
        Some(s) if s.keys.contains_key(key) => format!("/secrets/{secret}/keys/{key}"),
        _ => format!("/secrets/{secret}"),
    }
}

/// Sealed values the model no longer places: `kiln seal` removes them.
fn report_obsolete(
    cx: &Context<'_>,
    env: &Environment,
    placed: &[SecretPlacement],
    sealed: &sealed_file::SealedFile,
    diags: &mut Diagnostics,
) {
    // The sealed file as YAML nodes with spans, to point at each obsolete secret.
    let sources = &cx.project.sources;
    let file = sources.find(std::path::Path::new(&format!(
        "environments/sealed/{}.yaml",
        env.name
    )));
    let nodes = file.and_then(|id| crate::yaml::parse(id, &sources.file(id).text).ok());
    let key_span = |cluster: &str, namespace: &str, secret: &str| {
        let secrets = nodes
            .as_ref()?
            .get("clusters")?
            .get(cluster)?
            .get("namespaces")?
            .get(namespace)?;
        match &secrets.value {
            crate::yaml::Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == secret)
                .map(|(k, _)| k.span),
            _ => None,
        }
        .or(Some(secrets.span))
    };
    let wanted: BTreeSet<(String, String, String)> = placed
        .iter()
        .map(|p| {
            (
                p.cluster.to_string(),
                p.namespace.clone(),
                p.secret.to_string(),
            )
        })
        .collect();
    for (cluster, c) in &sealed.clusters {
        for (namespace, secrets) in &c.namespaces {
            for secret in secrets.keys() {
                if !wanted.contains(&(cluster.clone(), namespace.clone(), secret.clone())) {
                    diags.push(
                        Diagnostic::warning(
                            UNUSED_SEALED_VALUE,
                            format!(
                                "environments/sealed/{}.yaml has values of `{secret}` for namespace `{namespace}` on cluster `{cluster}`, where the model no longer places it",
                                env.name
                            ),
                        )
                        .at(key_span(cluster, namespace, secret).or_else(|| file.map(|id| crate::diagnostic::Span::new(id, 0, 0))))
                        .help(format!("`kiln seal --cert CERT.pem --env {}` removes them", env.name)),
                    );
                }
            }
        }
    }
}

#[derive(Serialize)]
struct ScriptEnv {
    name: String,
    /// Every model key the environment's placed secrets need, in dependency order.
    values: Vec<ScriptValue>,
    clusters: Vec<ScriptCluster>,
}

#[derive(Serialize)]
struct ScriptValue {
    /// `secret.key`.
    id: String,
    /// `op`, `generate`, `manual`, `template` or `dockerconfig`.
    kind: &'static str,
    /// The 1Password reference, the alphabet, the hint, or the registry host.
    arg: String,
    /// Generated length.
    length: u32,
    /// The environment variable a manual value may come from.
    var: String,
    /// Template pieces: `{text}` or `{id}`.
    parts: Vec<BTreeMap<&'static str, String>>,
    /// The value goes into a URL: refuse characters a URL cannot hold.
    url_safe: bool,
}

#[derive(Serialize)]
struct ScriptCluster {
    name: String,
    namespaces: Vec<ScriptNamespace>,
}

#[derive(Serialize)]
struct ScriptNamespace {
    name: String,
    secrets: Vec<ScriptSecret>,
}

#[derive(Serialize)]
struct ScriptSecret {
    name: String,
    scope: &'static str,
    keys: Vec<ScriptKey>,
}

#[derive(Serialize)]
struct ScriptKey {
    name: String,
    /// The value (`secret.key`) sealed under this key.
    value: String,
    source: String,
}

fn seal_script(cx: &Context<'_>) -> Value {
    let mut envs = Vec::new();
    for env in &cx.project.environments {
        let placed = placements(env);
        let url_keys = UrlKeys::of(env);
        let mut values: Vec<ScriptValue> = Vec::new();
        let mut value_ids: BTreeSet<String> = BTreeSet::new();
        let mut clusters: BTreeMap<String, BTreeMap<String, Vec<ScriptSecret>>> = BTreeMap::new();
        for p in &placed {
            let Some(secret) = env.model.secrets.get(&p.secret) else {
                continue;
            };
            let mut keys = Vec::new();
            for data_key in data_keys(env, &p.secret) {
                for (s, k) in value_order(env, &p.secret, &data_key) {
                    if value_ids.insert(format!("{s}.{k}")) {
                        values.push(script_value(env, &url_keys, &s, &k));
                    }
                }
                let value =
                    if data_key == DOCKER_CONFIG_KEY && secret.kind == SecretType::DockerRegistry {
                        let id = format!("{}.{DOCKER_CONFIG_KEY}", p.secret);
                        if value_ids.insert(id.clone()) {
                            values.push(ScriptValue {
                                id: id.clone(),
                                kind: "dockerconfig",
                                arg: registry_of(env, &p.secret)
                                    .map_or_else(String::new, |(_, h)| h.to_owned()),
                                length: 0,
                                var: String::new(),
                                parts: vec![
                                    BTreeMap::from([("id", format!("{}.username", p.secret))]),
                                    BTreeMap::from([("id", format!("{}.password", p.secret))]),
                                ],
                                url_safe: false,
                            });
                        }
                        id
                    } else {
                        format!("{}.{data_key}", p.secret)
                    };
                keys.push(ScriptKey {
                    source: source_fingerprint(env, &p.secret, &data_key),
                    name: data_key,
                    value,
                });
            }
            clusters
                .entry(p.cluster.to_string())
                .or_default()
                .entry(p.namespace.clone())
                .or_default()
                .push(ScriptSecret {
                    name: p.secret.to_string(),
                    scope: scope(secret.scope).as_str(),
                    keys,
                });
        }
        envs.push(ScriptEnv {
            name: env.name.to_string(),
            values,
            clusters: clusters
                .into_iter()
                .map(|(name, ns)| ScriptCluster {
                    name,
                    namespaces: ns
                        .into_iter()
                        .map(|(name, secrets)| ScriptNamespace { name, secrets })
                        .collect(),
                })
                .collect(),
        });
    }
    json!({ "envs": envs })
}

fn script_value(env: &Environment, url_keys: &UrlKeys, secret: &str, key: &str) -> ScriptValue {
    let mut v = ScriptValue {
        id: format!("{secret}.{key}"),
        kind: "manual",
        arg: String::new(),
        length: 0,
        var: manual_var(secret, key),
        parts: Vec::new(),
        url_safe: url_keys.contains(secret, key),
    };
    match env.model.secrets.get(secret).and_then(|s| s.keys.get(key)) {
        Some(KeySource::OnePassword(o)) => {
            v.kind = "op";
            v.arg = o.op.clone();
        }
        Some(KeySource::Generate(g)) => {
            v.kind = "generate";
            v.arg = g.generate.alphabet.as_str().to_owned();
            v.length = g.generate.length;
        }
        Some(KeySource::Manual(m)) => v.arg = m.manual.clone(),
        Some(KeySource::Template(t)) => {
            v.kind = "template";
            for part in t.parts().unwrap_or_default() {
                v.parts.push(match part {
                    TemplatePart::Text(text) => BTreeMap::from([("text", text)]),
                    TemplatePart::Key { secret: s, key: k } => BTreeMap::from([(
                        "id",
                        format!("{}.{k}", s.unwrap_or_else(|| secret.to_owned())),
                    )]),
                });
            }
        }
        None => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_with_the_sealed_layout_are_marked_for_scanners() {
        let sealed = crate::secrets::seal::seal_base64(
            crate::secrets::seal::tests::cert(2048).key(),
            b"value",
            b"ns/name",
            &mut crate::secrets::seal::OsRandomness,
        )
        .unwrap();
        let object = SealedSecret::named(
            "name",
            "ns",
            SealedSecretSpec {
                encrypted_data: BTreeMap::from([
                    ("good".to_owned(), sealed),
                    ("pasted".to_owned(), "ghp_notsealedatall".to_owned()),
                ]),
                template: SecretTemplate::default(),
            },
        );
        let text = yaml::to_string(&SealedDoc::of(&object));
        let line = |key: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(&format!("{key}:")))
                .unwrap()
        };
        assert_eq!(text.matches("checkov:skip").count(), 1, "{text}");
        assert!(line("good").contains(SEALED_SKIP), "{text}");
        assert!(!line("pasted").contains('#'), "{text}");
    }
}
