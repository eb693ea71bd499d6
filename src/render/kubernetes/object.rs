//! [`Object`]: one Kubernetes object as a JSON value, with the accessors the
//! Kustomize layout needs.

use serde::Serialize;
use serde_json::Value;

/// One Kubernetes object. Built from typed values (k8s-openapi's types, or
/// [`crate::crd`]'s for custom resources), which leave unset fields out, and kept as
/// JSON, whose maps are sorted, so output is deterministic.
#[derive(Clone, Debug, PartialEq)]
pub struct Object(pub Value);

impl Object {
    /// Converts a typed object.
    pub fn from<T: Serialize>(typed: &T) -> Object {
        Object(
            serde_json::to_value(typed)
                .unwrap_or_else(|e| panic!("object does not serialize: {e}")),
        )
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.0["apiVersion"].as_str().unwrap_or_default()
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.0["kind"].as_str().unwrap_or_default()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.0["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// The file this object is written to: `<kind>-<name>.yaml`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind().to_lowercase(), self.name())
    }

    /// Identity across environments: kind and name.
    pub fn id(&self) -> (String, String) {
        (self.kind().to_owned(), self.name().to_owned())
    }

    /// Sets `metadata.namespace`.
    pub fn set_namespace(&mut self, namespace: &str) {
        if let Some(meta) = self.0.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(namespace.to_owned()));
        }
    }
}
