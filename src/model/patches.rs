//! Hand patches: the escape hatch for what the model does not yet say, per app and
//! per environment (each environment file says its own, merged along `extends`).
//!
//! | field | on a cluster | on a host |
//! |---|---|---|
//! | `kubernetes` | RFC 6902 operations or a strategic-merge fragment on one object kiln writes for the app, written into the environment's Kustomize overlay (`patches:` with a target) | (a located error when the app has no object on a cluster) |
//! | `compose` | (a located error when the app has no compose service) | a fragment merged into the app's compose service by compose's merge rules; the committed compose file is the merged result |

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Hand patches of one app: what kiln applies on top of what the model writes.
/// Each one is listed in the runbook and reported by the `hand-patch` warning.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patches {
    /// Patches of the Kubernetes objects kiln writes for the app in this environment,
    /// applied in order after kiln's own overlay patches; each targets one object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes: Vec<KubernetesPatch>,
    /// A compose override fragment (service attributes, e.g. `{dns: [1.1.1.1]}`)
    /// merged into the app's compose service on a host by compose's merge rules:
    /// mappings merge; `command`, `entrypoint` and `healthcheck.test` are replaced;
    /// `ports` (by host address, target, published port, protocol), `volumes` (by
    /// target), `secrets` and `configs` (by source) merge entry by entry; other
    /// sequences get the values they lack appended. `environment` and `labels` are
    /// mappings, `ports` and `volumes` entries in the long syntax. A `null` removes
    /// the key from the fragment when environment files merge, as anywhere in the
    /// model; it cannot remove what kiln writes (compose does that with `!reset`, a
    /// YAML tag the model does not accept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compose: Option<Map<String, Value>>,
}

/// One patch of one Kubernetes object: exactly one of `jsonPatch` and
/// `strategicMerge`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesPatch {
    /// The object it patches, by kind and name; without it, the app's workload (its
    /// Deployment, StatefulSet or DaemonSet). A name alone or a kind alone completes
    /// with the workload's kind or the app's name.
    #[serde(default, skip_serializing_if = "PatchTarget::is_default")]
    pub target: PatchTarget,
    /// Why the model cannot say it yet (shown in the runbook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 6902 operations, applied in order, all or nothing (a path that does not
    /// exist is an error, as for Kustomize).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub json_patch: Option<Vec<JsonOp>>,
    /// A strategic-merge fragment of the object (without `apiVersion`, `kind` and
    /// `metadata.name`, which the target gives): mappings merge, `null` removes a
    /// key, lists of containers, env, volumes, mounts and ports merge by their key
    /// (name, mountPath, containerPort or port), other lists are replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategic_merge: Option<Map<String, Value>>,
}

/// The object a patch applies to.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchTarget {
    /// The object's kind, e.g. `Service`, `CronJob`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Z][A-Za-z0-9]*$"))]
    pub kind: Option<String>,
    /// The object's name, e.g. `web-backup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl PatchTarget {
    fn is_default(&self) -> bool {
        self == &PatchTarget::default()
    }
}

/// One RFC 6902 operation.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JsonOp {
    /// The operation.
    pub op: JsonOpKind,
    /// A JSON Pointer into the object, e.g. `/spec/template/spec/dnsPolicy`
    /// (`~1` for `/`, `~0` for `~` in a key; `-` appends to a list).
    #[schemars(regex(pattern = r"^(/.*)?$"))]
    pub path: String,
    /// The value (`add`, `replace`, `test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Where the value comes from (`move`, `copy`): a JSON Pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(/.*)?$"))]
    pub from: Option<String>,
}

/// An RFC 6902 operation name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonOpKind {
    /// Adds a value (a key of a mapping, or an item of a list).
    Add,
    /// Removes what the path names.
    Remove,
    /// Replaces what the path names.
    Replace,
    /// Moves `from` to `path`.
    Move,
    /// Copies `from` to `path`.
    Copy,
    /// Fails the patch unless the path holds `value`.
    Test,
}

impl JsonOpKind {
    /// Whether the operation needs a `value`.
    pub fn needs_value(self) -> bool {
        matches!(
            self,
            JsonOpKind::Add | JsonOpKind::Replace | JsonOpKind::Test
        )
    }

    /// Whether the operation needs a `from`.
    pub fn needs_from(self) -> bool {
        matches!(self, JsonOpKind::Move | JsonOpKind::Copy)
    }
}

impl Patches {
    /// Whether there is no patch at all.
    pub fn is_empty(&self) -> bool {
        self.kubernetes.is_empty() && self.compose.is_none()
    }
}

impl KubernetesPatch {
    /// The operations as data (`[{op, path, value?, from?}]`), what a Kustomize JSON
    /// 6902 patch file holds.
    pub fn ops_data(&self) -> Option<Value> {
        self.json_patch
            .as_ref()
            .map(|ops| serde_json::to_value(ops).unwrap_or(Value::Null))
    }

    /// `jsonPatch` or `strategicMerge`, as the runbook names it.
    pub fn form(&self) -> &'static str {
        if self.json_patch.is_some() {
            "JSON 6902"
        } else {
            "strategic merge"
        }
    }
}
