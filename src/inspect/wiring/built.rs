//! Kustomizations built the way `kubectl kustomize` builds kiln's layouts (resources,
//! `namespace:`, JSON 6902 and strategic-merge patches, the hand patches among them), from what a build would write: the wires that
//! must see an environment's objects as applied read them here.

use crate::layout;
use crate::render::OutputTree;
use crate::render::kubernetes::kustomize::apply_patch;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Directories with a kustomization that no other kustomization includes.
pub(super) fn roots(tree: &OutputTree) -> Vec<String> {
    let mut dirs = BTreeSet::new();
    let mut included = BTreeSet::new();
    for (path, _) in tree.iter() {
        let Some(dir) = layout::kustomization_dir(path) else {
            continue;
        };
        dirs.insert(dir.to_owned());
        for r in resources(tree, dir) {
            included.insert(layout::resolve(dir, &r));
        }
    }
    dirs.into_iter().filter(|d| !included.contains(d)).collect()
}

/// The document of the file at `path`, as the renderer kept it (or parsed).
fn data<'t>(tree: &'t OutputTree, path: &str) -> Option<Cow<'t, Value>> {
    tree.get(path)?.data()
}

fn resources(tree: &OutputTree, dir: &str) -> Vec<String> {
    data(tree, &layout::kustomization(dir))
        .and_then(|k| {
            k.get("resources")?
                .as_array()?
                .iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
        })
        .unwrap_or_default()
}

/// The objects a kustomization directory builds to.
pub(super) fn build(
    tree: &OutputTree,
    dir: &str,
    out: &mut Vec<Value>,
    depth: usize,
) -> Result<(), String> {
    if depth > 16 {
        return Err("kustomizations include each other too deeply".to_owned());
    }
    let k = data(tree, &layout::kustomization(dir))
        .ok_or_else(|| format!("{} does not parse", layout::kustomization(dir)))?;
    let mut objects = Vec::new();
    for r in resources(tree, dir) {
        let path = layout::resolve(dir, &r);
        if tree.get(&layout::kustomization(&path)).is_some() {
            build(tree, &path, &mut objects, depth + 1)?;
        } else {
            objects.push(
                data(tree, &path)
                    .ok_or_else(|| format!("{path} is missing or does not parse"))?
                    .into_owned(),
            );
        }
    }
    if let Some(ns) = k.get("namespace").and_then(Value::as_str) {
        for o in &mut objects {
            if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.to_owned()));
            }
        }
    }
    for patch in k
        .get("patches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(target) = patch.get("target") else {
            continue;
        };
        // A patch inline (its YAML text) or in a file of the overlay.
        let (path, patch) = match (patch["patch"].as_str(), patch["path"].as_str()) {
            (Some(text), _) => (
                "(inline)",
                serde_saphyr::from_str::<Value>(text).ok().map(Cow::Owned),
            ),
            (None, Some(path)) => (path, data(tree, &layout::resolve(dir, path))),
            (None, None) => continue,
        };
        let patch = patch
            .filter(|v| v.is_array() || v.is_object())
            .ok_or_else(|| format!("patch {path} is missing or does not parse"))?;
        for o in objects
            .iter_mut()
            .filter(|o| o["kind"] == target["kind"] && o["metadata"]["name"] == target["name"])
        {
            apply_patch(o, &patch).map_err(|e| format!("patch {path}: {e}"))?;
        }
    }
    out.extend(objects);
    Ok(())
}
