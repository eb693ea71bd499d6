//! The Kustomize layout of one app: a base with what every environment shares and an
//! overlay per environment with its namespace, image tags, strategic-merge patches for
//! what differs, and the objects only that environment has.
//!
//! The base holds, of each object every environment has, only the part they all share
//! ([`common`]): a field whose value differs between environments is left out of the
//! base (a list item of a named list, such as an environment variable, keeps only its
//! name), the namespace and app image tags are placeholders each overlay sets. Each
//! overlay adds its own values with a strategic-merge patch ([`merge_patch`]) that
//! names list items by their key (a container, a variable, a volume by its name),
//! never by position, so `kubectl kustomize overlays/<env>` gives back that
//! environment's objects whatever order or number of entries the others have.

use super::Object;
use crate::layout::{self, Provenance};
use crate::render::{OutputTree, yaml};
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The tag base objects carry; every overlay sets the real one.
pub const PLACEHOLDER_TAG: &str = "set-by-overlay";

/// The namespace base objects carry (no file says `default`); every overlay sets the
/// real one.
pub const PLACEHOLDER_NAMESPACE: &str = "set-by-overlay";

/// One environment's objects of an app.
pub struct EnvObjects {
    /// The environment.
    pub env: String,
    /// The namespace the overlay puts everything in.
    pub namespace: String,
    /// The objects, without namespace, app images tagged [`PLACEHOLDER_TAG`].
    pub objects: Vec<Object>,
    /// Objects made from the environment's host (see
    /// [`super::AppObjects::host_bound`]): written whole into its overlay, never into
    /// the base, even when every environment has them.
    pub host_bound: Vec<Object>,
    /// Image name → tag (and the Flux setter marker for it, if automated).
    pub images: BTreeMap<String, ImageTag>,
    /// Annotations the overlay puts on every object (`commonAnnotations`), with an
    /// optional Flux setter marker each.
    pub annotations: BTreeMap<String, ImageTag>,
    /// The model files this environment comes from.
    pub sources: Vec<String>,
    /// Where the overlay's files come from (the app in this environment, on its
    /// cluster); the base is made from every environment's.
    pub provenance: Provenance,
    /// The app's hand patches in this environment (`patches.kubernetes`), in model
    /// order, listed after kiln's own patches (Kustomize applies them in order).
    pub hand_patches: Vec<HandPatch>,
}

/// One hand patch as the overlay writes it: a file under `patches/` and its target.
#[derive(Clone, Debug)]
pub struct HandPatch {
    /// The file name (`hand-<n>-<kind>-<name>.yaml`).
    pub file: String,
    /// The object it applies to.
    pub target: Object,
    /// The file's document: RFC 6902 operations (a list) or a strategic-merge patch
    /// (a mapping with the target's `apiVersion`, `kind` and `metadata.name`).
    pub data: Value,
}

/// The tag an overlay sets for an image.
#[derive(Clone, Debug)]
pub struct ImageTag {
    /// The tag.
    pub tag: String,
    /// A Flux image-automation setter marker, e.g.
    /// `{"$imagepolicy": "flux-system:app-prod:tag"}`.
    pub setter: Option<String>,
}

impl ImageTag {
    fn value(&self) -> TagValue {
        match &self.setter {
            None => TagValue::Plain(self.tag.clone()),
            Some(marker) => {
                TagValue::Marked(serde_saphyr::Commented(self.tag.clone(), marker.clone()))
            }
        }
    }
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    common_annotations: BTreeMap<String, TagValue>,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<KustomizeImage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<KustomizePatch>,
}

impl Kustomization {
    /// The kustomization as data: what reading the file back gives (setter markers
    /// are comments).
    fn data(&self) -> Value {
        let mut data = yaml::to_data(&Kustomization {
            common_annotations: BTreeMap::new(),
            images: Vec::new(),
            ..self.clone()
        });
        let plain = |t: &TagValue| Value::String(t.plain().to_owned());
        if !self.common_annotations.is_empty() {
            data["commonAnnotations"] = self
                .common_annotations
                .iter()
                .map(|(k, t)| (k.clone(), plain(t)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if !self.images.is_empty() {
            data["images"] = self
                .images
                .iter()
                .map(|i| json!({"name": i.name, "newTag": plain(&i.new_tag)}))
                .collect();
        }
        data
    }
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct KustomizeImage {
    name: String,
    new_tag: TagValue,
}

#[derive(Clone, Serialize)]
#[serde(untagged)]
enum TagValue {
    Plain(String),
    Marked(serde_saphyr::Commented<String>),
}

impl TagValue {
    /// The tag without its marker.
    fn plain(&self) -> &str {
        match self {
            TagValue::Plain(t) | TagValue::Marked(serde_saphyr::Commented(t, _)) => t,
        }
    }
}

/// A patch of an overlay: kiln's own inline (`patch`, its YAML text: no file of its
/// own that a scanner would read as a partial object), a hand patch by file (`path`).
#[derive(Clone, Serialize)]
struct KustomizePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    target: PatchTarget,
}

#[derive(Clone, Serialize)]
struct PatchTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    version: String,
    kind: String,
    name: String,
}

impl PatchTarget {
    /// The order patches are listed in: by kind, then name, as the objects' files.
    fn order(&self) -> (String, &str) {
        (self.kind.to_lowercase(), &self.name)
    }
}

/// A kustomization listing `resources`, with nothing else.
pub fn plain_kustomization(resources: Vec<String>) -> impl Serialize {
    Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        namespace: None,
        common_annotations: BTreeMap::new(),
        resources,
        images: Vec::new(),
        patches: Vec::new(),
    }
}

/// Writes the base and an overlay per environment of app `app` ([`layout::app_base`],
/// [`layout::app_overlay`]). The objects move into the files' data (see
/// [`crate::render::OutputFile::data`]).
pub fn write_app(app: &str, envs: Vec<EnvObjects>, out: &mut OutputTree) {
    if envs.is_empty() {
        return;
    }
    let base_from = envs
        .iter()
        .fold(Provenance::default(), |p, e| p.shared_with(&e.provenance));
    let shared: BTreeSet<(String, String)> = envs[0]
        .objects
        .iter()
        .map(Object::id)
        .filter(|(kind, name)| {
            envs.iter().all(|e| {
                e.objects
                    .iter()
                    .any(|o| o.kind() == kind && o.name() == name)
            })
        })
        .collect();
    let mut all_sources: Vec<String> = envs.iter().flat_map(|e| e.sources.clone()).collect();
    all_sources.sort();
    all_sources.dedup();

    // The base is what every environment's version of a shared object has in common;
    // each overlay patches in the rest.
    let base: Vec<Object> = envs[0]
        .objects
        .iter()
        .filter(|o| shared.contains(&o.id()))
        .map(|first| {
            let versions: Vec<&Value> = envs
                .iter()
                .filter_map(|e| e.objects.iter().find(|o| o.id() == first.id()))
                .map(|o| &o.0)
                .collect();
            Object(common(&versions, "").unwrap_or_else(|| first.0.clone()))
        })
        .collect();
    let mut base_index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, object) in base.iter().enumerate() {
        base_index.entry(object.id()).or_insert(i);
    }

    for env in envs {
        let dir = layout::app_overlay(app, &env.env);
        let from = &env.provenance;
        let mut resources = vec![layout::OVERLAY_BASE.to_owned()];
        let mut patches = Vec::new();
        let mut own = Vec::new();
        // Host-bound objects are never in the base: each overlay holds its own whole.
        let whole = env.host_bound.into_iter().map(|o| (o, false));
        for (object, may_share) in env.objects.into_iter().map(|o| (o, true)).chain(whole) {
            let in_base = may_share.then(|| base_index.get(&object.id())).flatten();
            match in_base.map(|&i| &base[i]) {
                Some(base_object) => {
                    let Some(patch) = patch_document(&base_object.0, &object.0) else {
                        continue;
                    };
                    patches.push(KustomizePatch {
                        path: None,
                        patch: Some(yaml::to_string(&patch)),
                        target: target(&object),
                    });
                }
                None => {
                    let file = object.file_name();
                    let mut object = object;
                    object.set_namespace(&env.namespace);
                    out.add(
                        layout::join(&dir, &file),
                        yaml::document(&env.sources, object.0),
                        from,
                    );
                    own.push(file);
                }
            }
        }
        own.sort();
        resources.extend(own);
        patches.sort_by(|a, b| a.target.order().cmp(&b.target.order()));
        for hand in env.hand_patches {
            let file = layout::patch(&hand.file);
            out.add(
                layout::join(&dir, &file),
                yaml::document(&env.sources, hand.data),
                from,
            );
            patches.push(KustomizePatch {
                path: Some(file),
                patch: None,
                target: target(&hand.target),
            });
        }
        let images = env
            .images
            .iter()
            .map(|(name, t)| KustomizeImage {
                name: name.clone(),
                new_tag: t.value(),
            })
            .collect();
        let k = Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace: Some(env.namespace.clone()),
            common_annotations: env
                .annotations
                .iter()
                .map(|(k, t)| (k.clone(), t.value()))
                .collect(),
            resources,
            images,
            patches,
        };
        let data = k.data();
        out.add(
            layout::kustomization(&dir),
            yaml::typed_with(&env.sources, &k, data),
            from,
        );
    }

    let base_dir = layout::app_base(app);
    let mut base_files = Vec::new();
    for mut object in base {
        let file = object.file_name();
        object.set_namespace(PLACEHOLDER_NAMESPACE);
        out.add(
            layout::join(&base_dir, &file),
            yaml::document(&all_sources, object.0),
            &base_from,
        );
        base_files.push(file);
    }
    base_files.sort();
    out.add(
        layout::kustomization(&base_dir),
        yaml::typed(&all_sources, &plain_kustomization(base_files)),
        &base_from,
    );
}

/// The part every one of `values` has, for the base: a value they all have equal,
/// a mapping of the keys they all have (each key's common part; a key whose values
/// share nothing is left out), or a named list (see `item_key`) of the items every
/// one has, in the first one's order, each its common part (at least its key).
/// `None` when they share nothing (a scalar or an unnamed list that differs).
pub fn common(values: &[&Value], field: &str) -> Option<Value> {
    let first = *values.first()?;
    if values.iter().all(|v| *v == first) {
        return Some(first.clone());
    }
    if let Some(maps) = values
        .iter()
        .map(|v| v.as_object())
        .collect::<Option<Vec<_>>>()
    {
        let mut out = serde_json::Map::new();
        for key in maps[0].keys() {
            let children: Option<Vec<&Value>> = maps.iter().map(|m| m.get(key)).collect();
            if let Some(part) = children.and_then(|c| common(&c, key)) {
                out.insert(key.clone(), part);
            }
        }
        return Some(Value::Object(out));
    }
    let key = item_key(field)?;
    let lists: Vec<&Vec<Value>> = values
        .iter()
        .map(|v| v.as_array().filter(|items| keyed(items, key)))
        .collect::<Option<_>>()?;
    let items = lists[0]
        .iter()
        .filter_map(|item| {
            let same: Option<Vec<&Value>> = lists
                .iter()
                .map(|l| l.iter().find(|i| i.get(key) == item.get(key)))
                .collect();
            same.and_then(|s| common(&s, field))
        })
        .collect();
    Some(Value::Array(items))
}

/// The key of the named lists the base and the overlays' patches share item by item:
/// the strategic-merge `patchMergeKey` of the lists where Kustomize merges by a
/// name alone. Every other list is shared whole or not at all (for `ports`,
/// Kustomize keys by port and protocol).
fn item_key(field: &str) -> Option<&'static str> {
    match field {
        "containers" | "initContainers" | "env" | "volumes" | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        _ => None,
    }
}

/// Whether every item of a list is a mapping with a distinct `key`.
fn keyed(items: &[Value], key: &str) -> bool {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .all(|i| i.get(key).is_some_and(|k| seen.insert(k.to_string())))
}

/// The overlay's strategic-merge patch turning base object `base` into `object`
/// (both without namespace), with the target's `apiVersion`, `kind` and name; `None`
/// when they are the same. Falls back to RFC 6902 operations in the (never written)
/// case a merge patch cannot say the change, e.g. a base list item the object lacks.
fn patch_document(base: &Value, object: &Value) -> Option<Value> {
    let mut base = base.clone();
    let mut object = object.clone();
    for v in [&mut base, &mut object] {
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
    }
    if base == object {
        return None;
    }
    match merge_patch(&base, &object, "") {
        Some(Value::Object(mut patch)) => {
            for field in ["apiVersion", "kind"] {
                patch.insert(field.to_owned(), object[field].clone());
            }
            let meta = patch
                .entry("metadata")
                .or_insert_with(|| json!({}))
                .as_object_mut()?;
            meta.insert("name".to_owned(), object["metadata"]["name"].clone());
            Some(Value::Object(patch))
        }
        _ => Some(yaml::to_data(&diff_ops(&base, &object))),
    }
}

/// The strategic-merge patch turning `from` into `to`, or `None` if none can: maps
/// key by key (a key `to` lacks is `null`), a named list (`item_key`) as every item
/// of `to` in its order (an item of `from` by its key and what changes in it; the
/// merge puts the patch's items first, so `to`'s order is kept), anything else
/// replaced whole where `from` has no such list to merge into.
pub fn merge_patch(from: &Value, to: &Value, field: &str) -> Option<Value> {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = serde_json::Map::new();
            for (key, y) in b {
                match a.get(key) {
                    Some(x) if x == y => {}
                    Some(x) => {
                        out.insert(key.clone(), merge_patch(x, y, key)?);
                    }
                    None if has_null(y) => return None,
                    None => {
                        out.insert(key.clone(), y.clone());
                    }
                }
            }
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.insert(key.clone(), Value::Null);
            }
            Some(Value::Object(out))
        }
        (Value::Array(a), Value::Array(b)) => {
            let Some(key) = item_key(field).filter(|k| keyed(a, k) && keyed(b, k)) else {
                // A list Kustomize merges item by item cannot be replaced by a patch.
                return (merge_key(field, a).is_none() && !has_null(to)).then(|| to.clone());
            };
            if a.iter()
                .any(|x| !b.iter().any(|y| y.get(key) == x.get(key)))
            {
                return None;
            }
            // The merge puts the patch's items first, then the base's others in their
            // order: a tail of `to` that is those others, unchanged, need not be named.
            let mut n = b.len();
            while n > 0 {
                let named: Vec<&Value> = b[..n - 1].iter().filter_map(|y| y.get(key)).collect();
                let rest: Vec<&Value> = a
                    .iter()
                    .filter(|x| x.get(key).is_some_and(|k| !named.contains(&k)))
                    .collect();
                if rest.len() != b.len() - (n - 1)
                    || rest.iter().zip(&b[n - 1..]).any(|(x, y)| *x != y)
                {
                    break;
                }
                n -= 1;
            }
            let items = b[..n]
                .iter()
                .map(|y| match a.iter().find(|x| x.get(key) == y.get(key)) {
                    Some(x) => {
                        let mut item = merge_patch(x, y, field)?;
                        item.as_object_mut()?.insert(key.to_owned(), y[key].clone());
                        Some(item)
                    }
                    None => (!has_null(y)).then(|| y.clone()),
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Value::Array(items))
        }
        _ if has_null(to) => None,
        _ => Some(to.clone()),
    }
}

/// Whether a value holds a `null` (which a merge patch reads as "remove").
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

fn target(object: &Object) -> PatchTarget {
    let (group, version) = match object.api_version().split_once('/') {
        Some((g, v)) => (Some(g.to_owned()), v.to_owned()),
        None => (None, object.api_version().to_owned()),
    };
    PatchTarget {
        group,
        version,
        kind: object.kind().to_owned(),
        name: object.name().to_owned(),
    }
}

/// RFC 6902 operations turning `from` into `to`: maps are compared key by key, lists
/// of equal length item by item, anything else is replaced whole. Only `add` (of a
/// key the map lacks), `remove` and `replace` (of what is there) are made, which
/// Kustomize's JSON 6902 patches apply as [`json_patch::patch`] does.
pub fn diff_ops(from: &Value, to: &Value) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    diff(from, to, &mut PointerBuf::root(), &mut ops);
    ops
}

fn diff(from: &Value, to: &Value, path: &mut PointerBuf, ops: &mut Vec<PatchOperation>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                path.push_back(key.as_str());
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(x, y, path, ops),
                    (Some(_), None) => ops.push(PatchOperation::Remove(RemoveOperation {
                        path: path.clone(),
                    })),
                    (None, Some(y)) => ops.push(PatchOperation::Add(AddOperation {
                        path: path.clone(),
                        value: y.clone(),
                    })),
                    (None, None) => {}
                }
                path.pop_back();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push_back(i);
                diff(x, y, path, ops);
                path.pop_back();
            }
        }
        _ => ops.push(PatchOperation::Replace(ReplaceOperation {
            path: path.clone(),
            value: to.clone(),
        })),
    }
}

/// Applies the operations of a patch file read back as data (for tests and the
/// checks over the output), as RFC 6902 and Kustomize do: all or nothing.
pub fn apply_ops(value: &mut Value, ops: &[Value]) -> Result<(), String> {
    let patch: Vec<PatchOperation> =
        serde_json::from_value(Value::Array(ops.to_vec())).map_err(|e| e.to_string())?;
    json_patch::patch(value, &patch).map_err(|e| e.to_string())
}

/// Applies one patch file read back as data: RFC 6902 operations (a list, see
/// [`apply_ops`]) or a strategic-merge patch (a mapping, see [`strategic_merge`]; its
/// `apiVersion`, `kind` and `metadata.name` are the target's, as Kustomize takes them).
pub fn apply_patch(value: &mut Value, patch: &Value) -> Result<(), String> {
    match patch {
        Value::Array(ops) => apply_ops(value, ops),
        Value::Object(map) => {
            let mut fragment = map.clone();
            fragment.remove("apiVersion");
            fragment.remove("kind");
            if let Some(Value::Object(meta)) = fragment.get_mut("metadata") {
                meta.remove("name");
                if meta.is_empty() {
                    fragment.remove("metadata");
                }
            }
            strategic_merge(value, &Value::Object(fragment))
        }
        _ => Err("a patch is a list of operations or a mapping".to_owned()),
    }
}

/// The key items of a list merge by in a strategic-merge patch, by the list's field
/// name (Kubernetes' `patchMergeKey`s of the fields kiln writes); other lists are
/// replaced whole.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let has = |key: &str| items.iter().all(|i| i.get(key).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "volumeClaimTemplates"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        _ => None,
    }
}

/// Merges a strategic-merge fragment into `value` as Kustomize does: mappings merge
/// key by key, `null` removes a key, lists of a known merge key (`merge_key`) merge
/// item by item (the patch's items first, in its order, each merged with the item of
/// the same key, then the items the patch does not name, in their order), any other
/// value is replaced. Directives (`$patch`, `$setElementOrder/...`, `$retainKeys`,
/// `$deleteFromPrimitiveList/...`) are refused rather than guessed.
pub fn strategic_merge(value: &mut Value, patch: &Value) -> Result<(), String> {
    merge_at(value, patch, "")
}

fn merge_at(value: &mut Value, patch: &Value, at: &str) -> Result<(), String> {
    let Value::Object(patch) = patch else {
        *value = patch.clone();
        return Ok(());
    };
    if !value.is_object() {
        *value = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = value else {
        unreachable!("made a mapping above")
    };
    for (key, p) in patch {
        let here = format!("{at}/{}", crate::pointer::escape(key));
        if key.starts_with('$') {
            return Err(format!(
                "the strategic-merge directive `{key}` at {at} is not applied by kiln; write the change as `jsonPatch` operations"
            ));
        }
        match p {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(_) => merge_at(map.entry(key.clone()).or_insert(Value::Null), p, &here)?,
            Value::Array(items) => match (merge_key(key, items), map.get_mut(key)) {
                (Some(k), Some(Value::Array(old))) if items.iter().all(Value::is_object) => {
                    let mut merged = Vec::with_capacity(old.len() + items.len());
                    let mut rest: Vec<Option<Value>> = old.drain(..).map(Some).collect();
                    for item in items {
                        let found = rest
                            .iter_mut()
                            .find(|o| o.as_ref().is_some_and(|o| o.get(k) == item.get(k)))
                            .and_then(Option::take);
                        let mut item_value = found.unwrap_or(Value::Null);
                        merge_at(&mut item_value, item, &here)?;
                        merged.push(item_value);
                    }
                    merged.extend(rest.into_iter().flatten());
                    *old = merged;
                }
                _ => {
                    map.insert(key.clone(), p.clone());
                }
            },
            _ => {
                map.insert(key.clone(), p.clone());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_turn_one_value_into_the_other() {
        let a = json!({"spec": {"replicas": 1, "keep": true, "gone": 1,
            "containers": [{"env": [{"name": "A"}], "image": "x"}],
            "labels": {"app.kubernetes.io/name": "a"}}});
        let b = json!({"spec": {"replicas": 2, "keep": true, "new": {"x": 1},
            "containers": [{"env": [{"name": "A"}, {"name": "B"}], "image": "x"}],
            "labels": {"app.kubernetes.io/name": "b"}}});
        let ops = diff_ops(&a, &b);
        let paths: Vec<&str> = ops.iter().map(|o| o.path().as_str()).collect();
        assert!(
            paths.contains(&"/spec/labels/app.kubernetes.io~1name"),
            "{paths:?}"
        );
        assert!(paths.contains(&"/spec/containers/0/env"), "{paths:?}");
        let mut patched = a.clone();
        let data = yaml::to_data(&ops);
        apply_ops(&mut patched, data.as_array().unwrap()).unwrap();
        assert_eq!(patched, b);
    }

    /// Kustomize (RFC 6902) replaces and removes only what is there, and applies a
    /// patch whole or not at all.
    #[test]
    fn ops_apply_as_kustomize_applies_them() {
        let mut v = json!({"spec": {"replicas": 1}});
        let missing = [json!({"op": "replace", "path": "/spec/missing", "value": 2})];
        assert!(apply_ops(&mut v, &missing).is_err());
        let half = [
            json!({"op": "replace", "path": "/spec/replicas", "value": 2}),
            json!({"op": "remove", "path": "/spec/gone"}),
        ];
        assert!(apply_ops(&mut v, &half).is_err());
        assert_eq!(v, json!({"spec": {"replicas": 1}}));
        let escaped = [json!({"op": "add", "path": "/spec/a~1b~0c", "value": 1})];
        apply_ops(&mut v, &escaped).unwrap();
        assert_eq!(v["spec"]["a/b~c"], 1);
    }

    /// What `kubectl kustomize` gave for the same base and patch: the patch's items
    /// first, merged by name, then the base's others; `null` removes; other lists are
    /// replaced.
    #[test]
    fn strategic_merge_merges_as_kustomize_does() {
        let mut d = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "x", "args": ["q"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}],
            "volumes": [{"name": "v1", "emptyDir": {}}], "dnsPolicy": "ClusterFirst"}}}});
        let patch = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {
            "containers": [{"name": "b", "image": "y"},
                {"name": "a", "args": ["z"], "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]}],
            "volumes": [{"name": "v0", "emptyDir": {}}], "dnsPolicy": null}}}});
        apply_patch(&mut d, &patch).unwrap();
        assert_eq!(
            d,
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "b", "image": "y"},
                    {"name": "a", "image": "x", "args": ["z"],
                     "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}, {"name": "B", "value": "2"}]}],
                "volumes": [{"name": "v0", "emptyDir": {}}, {"name": "v1", "emptyDir": {}}]}}}})
        );
        let err = strategic_merge(&mut d, &json!({"spec": {"$patch": "replace"}})).unwrap_err();
        assert!(err.contains("$patch"), "{err}");
    }

    /// The base is what the environments share, and each environment's patch, merged
    /// into it as Kustomize merges, gives back that environment's object exactly:
    /// items named by key whatever their order or number, values that differ left out
    /// of the base, no position anywhere in a patch.
    #[test]
    fn a_shared_base_and_patches_by_name_give_back_every_environment() {
        let pod = |env: Value, args: Value, extra: Option<Value>| {
            let mut containers =
                vec![json!({"name": "app", "image": "x", "env": env, "args": args})];
            containers.extend(extra);
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}}})
        };
        let dev = pod(
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "dev"}]),
            json!(["--dev"]),
            None,
        );
        let prod = pod(
            json!([{"name": "C", "value": "3"}, {"name": "B", "value": "prod"}, {"name": "A", "value": "1"}]),
            json!(["--prod"]),
            Some(json!({"name": "proxy", "image": "y"})),
        );
        let staging = pod(
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "dev"}, {"name": "D", "value": "4"}]),
            json!(["--dev"]),
            None,
        );
        let envs = [&dev, &prod, &staging];
        let base = common(&envs, "").unwrap();
        let container = &base["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B"}])
        );
        assert!(container.get("args").is_none(), "{container}");
        assert_eq!(base["spec"]["replicas"], 1);
        for env in envs {
            let patch = patch_document(&base, env);
            let Some(Value::Object(patch)) = patch else {
                panic!("a merge patch for every environment: {patch:?}")
            };
            let text = yaml::to_string(&patch);
            assert!(!text.contains("/0"), "no positions: {text}");
            let mut built = base.clone();
            apply_patch(&mut built, &Value::Object(patch)).unwrap();
            assert_eq!(&built, env, "{text}");
        }
        // An environment whose list is the base's in order, plus changes and one new
        // item at the end: the patch names what changes up to the new item, not the
        // unchanged tail.
        let patch = patch_document(&base, &staging).unwrap();
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "A"}, {"name": "B", "value": "dev"}, {"name": "D", "value": "4"}])
        );
        let mut dev_only = dev.clone();
        dev_only["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = json!("x");
        let patch = patch_document(&base, &dev_only).unwrap();
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "A"}, {"name": "B", "value": "x"}]),
            "B is second, so A is named to keep it first"
        );
    }

    #[test]
    fn equal_values_need_no_ops() {
        let a = json!({"a": [1, {"b": 2}]});
        assert!(diff_ops(&a, &a.clone()).is_empty());
    }
}
