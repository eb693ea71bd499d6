//! [`Resource`]: one thing an environment gets, fully resolved, as `kiln diff`
//! compares it: a Kubernetes object with its real namespace and image tag, a YAML file
//! (compose stack, pipeline) as data, any other file as text.
//!
//! Targets give their resources through [`super::Target::resources`]. The default,
//! [`from_files`], works from the files the target rendered and the environment each
//! file belongs to, so a new target takes part in `kiln diff` without writing
//! anything; a target whose files are not the environment's objects (Kustomize
//! bases and patches) overrides it.

use super::OutputTree;
use serde_json::Value;

/// One resource of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The target that produced it (its id).
    pub target: &'static str,
    /// Where it lives beyond its namespace: a cluster or a host; part of its identity.
    pub scope: Option<String>,
    /// A Kubernetes kind (`Deployment`), or `file` for a file compared as a whole.
    pub kind: String,
    /// The object's namespace, for namespaced Kubernetes objects.
    pub namespace: Option<String>,
    /// The object's name, or the file's path under `out/`.
    pub name: String,
    /// What is compared.
    pub content: Content,
    /// Whether the resource is shared by every environment rather than owned by this
    /// one (a file the target writes once for all of them).
    pub shared: bool,
}

/// What a resource holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// Structured data, compared field by field.
    Data(Value),
    /// Text, compared line by line.
    Text(String),
}

impl Resource {
    /// A Kubernetes object (`apiVersion`, `kind`, `metadata.name`, and
    /// `metadata.namespace` when namespaced) as a resource.
    pub fn object(target: &'static str, scope: Option<&str>, object: Value) -> Resource {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
        Resource {
            target,
            scope: scope.map(str::to_owned),
            kind,
            namespace,
            name,
            content: Content::Data(object),
            shared: false,
        }
    }
}

/// Whether a value is a Kubernetes object (so it is matched by kind and name).
pub fn is_object(value: &Value) -> bool {
    value["apiVersion"].is_string()
        && value["kind"].is_string()
        && value["metadata"]["name"].is_string()
}

/// The default resources of a target for environment `env`: every file of `files`
/// that belongs to `env`, plus the shared ones (marked [`Resource::shared`]).
///
/// A YAML file whose documents are all Kubernetes objects gives one resource per
/// object; any other YAML or JSON file is one resource of data; anything else is text.
pub fn from_files(target: &'static str, env: &str, files: &OutputTree) -> Vec<Resource> {
    let mut out = Vec::new();
    for (path, file) in files.iter() {
        let shared = match file.env() {
            None => true,
            Some(e) if e == env => false,
            Some(_) => continue,
        };
        let text = String::from_utf8_lossy(&file.bytes);
        let as_file = |content| Resource {
            target,
            scope: None,
            kind: "file".to_owned(),
            namespace: None,
            name: path.clone(),
            content,
            shared,
        };
        match parse(path, &text) {
            Some(docs) if !docs.is_empty() && docs.iter().all(is_object) => {
                out.extend(docs.into_iter().map(|d| Resource {
                    shared,
                    ..Resource::object(target, None, d)
                }));
            }
            Some(mut docs) if docs.len() == 1 => out.push(as_file(Content::Data(docs.remove(0)))),
            Some(docs) => out.push(as_file(Content::Data(Value::Array(docs)))),
            None => out.push(as_file(Content::Text(text.into_owned()))),
        }
    }
    out
}

/// The documents of a YAML or JSON file; `None` for other files or ones that do not
/// parse (compared as text).
fn parse(path: &str, text: &str) -> Option<Vec<Value>> {
    if path.ends_with(".json") {
        return serde_json::from_str(text).ok().map(|v| vec![v]);
    }
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return None;
    }
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(text).ok()?;
    Some(docs.into_iter().filter(|d| !d.is_null()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_become_objects_data_or_text_and_other_environments_are_left_out() {
        let mut tree = OutputTree::default();
        tree.add(
            "t/dev/objects.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n".to_vec(),
            &crate::layout::Provenance::new("t").of_env("dev"),
        );
        tree.add(
            "t/dev/compose.yaml",
            b"services:\n  web: {}\n".to_vec(),
            &crate::layout::Provenance::new("t").of_env("dev"),
        );
        tree.add(
            "t/Caddyfile",
            b"example.com {\n}\n".to_vec(),
            &crate::layout::Provenance::new("t"),
        );
        tree.add(
            "t/prod/compose.yaml",
            b"services: {}\n".to_vec(),
            &crate::layout::Provenance::new("t").of_env("prod"),
        );
        let got = from_files("t", "dev", &tree);
        let ids: Vec<(&str, &str, bool)> = got
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str(), r.shared))
            .collect();
        assert_eq!(
            ids,
            [
                ("file", "t/Caddyfile", true),
                ("file", "t/dev/compose.yaml", false),
                ("ConfigMap", "a", false),
                ("ConfigMap", "b", false),
            ]
        );
        assert_eq!(got[2].namespace.as_deref(), Some("x"));
        assert!(matches!(got[0].content, Content::Text(_)));
        assert_eq!(
            got[1].content,
            Content::Data(serde_json::json!({"services": {"web": {}}}))
        );
    }
}
