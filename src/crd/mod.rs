//! Typed custom resources: the objects kiln writes whose kinds k8s-openapi does not
//! have (Flux, Sealed Secrets, Gateway API, Cilium), one shape that the renderers build
//! and the checks of the output read back.
//!
//! An object is a [`Crd`] of its kind's spec type, which names the kind's
//! `apiVersion` and `kind` ([`Spec`]); the metadata is k8s-openapi's [`ObjectMeta`].
//! Each type has the fields kiln writes (the CRD schemas in `tools/schemas/crds/`
//! list the rest), declared in alphabetical order of their JSON names, the order
//! [`serde_json::Value`] and k8s-openapi write them in, so a type serialized directly
//! gives the same document as through a `Value`.
//!
//! Reading an object of the output back: [`Crd::of`] on the document as data, e.g.
//! `flux::ImagePolicy::of(&object.value)`, is `None` for any other kind. Reading is
//! lenient, as a check of the output must be: a field the document lacks reads as its
//! default (empty, `false`, `None`, or the kind's default variant), so an object kiln
//! did not write whole (a hand-written file) still reads as far as it goes; only a
//! field of the wrong type makes it unreadable. Writing is unaffected: every field
//! kiln sets is written.

pub mod cilium;
pub mod flux;
pub mod gateway;
pub mod sealed_secret;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The spec of a custom resource kind, which names the kind.
pub trait Spec: Serialize + DeserializeOwned + Default {
    /// `apiVersion`, e.g. `kustomize.toolkit.fluxcd.io/v1`.
    const API_VERSION: &'static str;
    /// `kind`, e.g. `Kustomization`.
    const KIND: &'static str;
}

/// One custom resource of the kind of `S`: `apiVersion` and `kind` come from `S`
/// ([`Spec`]), so an object cannot name one kind and carry another's spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Crd<S> {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: S,
}

impl<S: Spec> Crd<S> {
    /// An object named `name` in `namespace` (no labels, no annotations).
    pub fn named(name: &str, namespace: &str, spec: S) -> Self {
        Crd {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..ObjectMeta::default()
            },
            spec,
        }
    }

    /// Whether the document `value` is of this kind (its `apiVersion` and `kind`).
    pub fn is(value: &Value) -> bool {
        value["apiVersion"] == S::API_VERSION && value["kind"] == S::KIND
    }

    /// The document `value` as this kind, missing fields at their defaults: `None`
    /// when it is of another kind, or has a field of the wrong type (which an object
    /// kiln wrote never has: it was written from this type).
    pub fn of(value: &Value) -> Option<Self> {
        if !Self::is(value) {
            return None;
        }
        Self::deserialize(value).ok()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace`, when set.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }
}

impl<S: Spec> Serialize for Crd<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut object = serializer.serialize_struct(S::KIND, 4)?;
        object.serialize_field("apiVersion", S::API_VERSION)?;
        object.serialize_field("kind", S::KIND)?;
        object.serialize_field("metadata", &self.metadata)?;
        object.serialize_field("spec", &self.spec)?;
        object.end()
    }
}

impl<'de, S: Spec> Deserialize<'de> for Crd<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw<S> {
            api_version: String,
            kind: String,
            #[serde(default)]
            metadata: ObjectMeta,
            #[serde(default)]
            spec: S,
        }
        let raw = Raw::<S>::deserialize(deserializer)?;
        if raw.api_version != S::API_VERSION || raw.kind != S::KIND {
            return Err(D::Error::custom(format!(
                "expected {} {}, found {} {}",
                S::API_VERSION,
                S::KIND,
                raw.api_version,
                raw.kind
            )));
        }
        Ok(Crd {
            metadata: raw.metadata,
            spec: raw.spec,
        })
    }
}

/// A reference by name to an object in the same namespace (`secretRef`,
/// `imageRepositoryRef`, `dependsOn` entries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NameRef {
    /// `name`.
    pub name: String,
}

impl NameRef {
    /// A reference to `name`.
    pub fn to(name: impl Into<String>) -> Self {
        NameRef { name: name.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }

    /// Every object of `S`'s kind in `docs` reads into the type and writes back as
    /// the same document, with its fields in the same order (the JSON text of a
    /// `Value` has its keys sorted; that of a type, its fields in declared order).
    fn round_trip<S: Spec>(docs: &[(PathBuf, Value)]) -> usize {
        let mut seen = 0;
        for (path, doc) in docs.iter().filter(|(_, d)| Crd::<S>::is(d)) {
            let typed = Crd::<S>::of(doc)
                .unwrap_or_else(|| panic!("{}: not a {}", path.display(), S::KIND));
            assert_eq!(
                serde_json::to_string(&typed).unwrap(),
                serde_json::to_string(doc).unwrap(),
                "{}",
                path.display()
            );
            seen += 1;
        }
        seen
    }

    #[test]
    fn every_custom_resource_kiln_wrote_reads_into_its_type_and_back_unchanged() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        yaml_files(&root.join("out"), &mut files);
        yaml_files(&root.join("tests/golden"), &mut files);
        let docs: Vec<(PathBuf, Value)> = files
            .into_iter()
            .filter(|p| !p.components().any(|c| c.as_os_str() == "patches"))
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                let doc: Value = serde_saphyr::from_str(&text).ok()?;
                doc.get("kind")?;
                Some((p, doc))
            })
            .collect();
        let counts = [
            (
                flux::KustomizationSpec::KIND,
                round_trip::<flux::KustomizationSpec>(&docs),
            ),
            (
                flux::GitRepositorySpec::KIND,
                round_trip::<flux::GitRepositorySpec>(&docs),
            ),
            (
                flux::HelmRepositorySpec::KIND,
                round_trip::<flux::HelmRepositorySpec>(&docs),
            ),
            (
                flux::HelmReleaseSpec::KIND,
                round_trip::<flux::HelmReleaseSpec>(&docs),
            ),
            (
                flux::ImageRepositorySpec::KIND,
                round_trip::<flux::ImageRepositorySpec>(&docs),
            ),
            (
                flux::ImagePolicySpec::KIND,
                round_trip::<flux::ImagePolicySpec>(&docs),
            ),
            (
                flux::ImageUpdateAutomationSpec::KIND,
                round_trip::<flux::ImageUpdateAutomationSpec>(&docs),
            ),
            (
                sealed_secret::SealedSecretSpec::KIND,
                round_trip::<sealed_secret::SealedSecretSpec>(&docs),
            ),
            (
                gateway::HttpRouteSpec::KIND,
                round_trip::<gateway::HttpRouteSpec>(&docs),
            ),
            (
                cilium::CiliumNetworkPolicySpec::KIND,
                round_trip::<cilium::CiliumNetworkPolicySpec>(&docs),
            ),
        ];
        for (kind, seen) in counts {
            assert!(seen > 0, "no {kind} in out/ or tests/golden/");
        }
    }

    #[test]
    fn another_kind_is_none_and_a_kind_naming_another_spec_does_not_read() {
        let policy = serde_json::json!({
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImagePolicy",
            "metadata": {"name": "a", "namespace": "flux-system"},
            "spec": {"imageRepositoryRef": {"name": "a"}, "policy": {"numerical": {"order": "asc"}}},
        });
        let read = flux::ImagePolicy::of(&policy).unwrap();
        assert_eq!(read.name(), "a");
        assert_eq!(read.spec.image_repository_ref.name, "a");
        assert!(flux::ImageRepository::of(&policy).is_none());
        let mut other_version = policy.clone();
        other_version["apiVersion"] = "image.toolkit.fluxcd.io/v1beta2".into();
        assert!(flux::ImagePolicy::of(&other_version).is_none());
        // A document naming one kind cannot be read as another's, even when its spec
        // would fit.
        let mislabelled = serde_json::json!({
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImagePolicy",
            "spec": {"image": "registry.example/app", "interval": "1m"},
        });
        let error = serde_json::from_value::<flux::ImageRepository>(mislabelled).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected image.toolkit.fluxcd.io/v1 ImageRepository, found image.toolkit.fluxcd.io/v1 ImagePolicy"),
            "{error}"
        );
    }

    #[test]
    fn accessors_give_what_the_checks_follow() {
        let spec = |path: &str| flux::KustomizationSpec {
            depends_on: Vec::new(),
            interval: "10m".to_owned(),
            path: path.to_owned(),
            prune: true,
            source_ref: flux::SourceRef::git("flux-system"),
            timeout: "5m".to_owned(),
            wait: true,
        };
        assert_eq!(spec("./out/flux/pi").out_dir(), Some("flux/pi"));
        assert_eq!(
            spec("./deploy/out/kubernetes/x/").out_dir(),
            Some("kubernetes/x")
        );
        assert_eq!(spec("./clusters/pi").out_dir(), None);

        let route: gateway::HttpRoute = serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web"},
            "spec": {"rules": [
                {"backendRefs": [{"name": "web", "port": 80}]},
                {"backendRefs": [{"name": "api", "port": 8080}, {"name": "old"}]},
            ]},
        }))
        .unwrap();
        let backends: Vec<(&str, Option<u16>)> = route
            .spec
            .backends()
            .map(|b| (b.name.as_str(), b.port))
            .collect();
        assert_eq!(
            backends,
            [("web", Some(80)), ("api", Some(8080)), ("old", None)]
        );

        let rule: cilium::EgressRule = serde_json::from_value(serde_json::json!({
            "toPorts": [{"ports": [
                {"port": "8080", "protocol": "TCP"},
                {"port": "http", "protocol": "TCP"},
                {"port": "53", "protocol": "UDP"},
            ]}],
        }))
        .unwrap();
        assert_eq!(rule.port_numbers().collect::<Vec<_>>(), [8080, 53]);

        let mut sealed = sealed_secret::SealedSecret::named(
            "db",
            "app",
            sealed_secret::SealedSecretSpec {
                encrypted_data: [("password".to_owned(), "AgB".to_owned())].into(),
                template: sealed_secret::SecretTemplate::default(),
            },
        );
        sealed
            .spec
            .template
            .data
            .insert("user".to_owned(), "app".to_owned());
        assert_eq!(
            sealed.keys().into_iter().collect::<Vec<_>>(),
            ["password", "user"]
        );
        assert_eq!(sealed.namespace(), Some("app"));
    }

    #[test]
    fn a_document_with_fields_missing_reads_them_as_defaults() {
        // A hand-written Kustomization with only a path: the checks still follow it.
        let partial = serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "again"},
            "spec": {"path": "./out/kubernetes/clusters/pi/namespaces"},
        });
        let read = flux::Kustomization::of(&partial).unwrap();
        assert_eq!(
            read.spec.out_dir(),
            Some("kubernetes/clusters/pi/namespaces")
        );
        assert!(!read.spec.prune);
        assert_eq!(read.spec.source_ref.name, "");
        let no_spec =
            serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy"});
        assert!(
            cilium::CiliumNetworkPolicy::of(&no_spec)
                .unwrap()
                .spec
                .egress
                .is_empty()
        );
        // A field of the wrong type is not guessed at.
        let mut wrong = partial;
        wrong["spec"]["path"] = serde_json::json!(["./out/a"]);
        assert!(flux::Kustomization::of(&wrong).is_none());
    }
}
