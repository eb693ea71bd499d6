//! ImagePolicy → ImageRepository → marked image: every ImagePolicy reads an existing
//! ImageRepository, and some overlay or compose file marks that repository's image
//! for the policy (or Flux would update nothing).

use super::{Points, Wire, name, objects_of};
use crate::crd::flux::{ImagePolicy, ImageRepository};
use crate::inspect::lint::LintContext;
use std::collections::BTreeMap;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "ImagePolicy → ImageRepository → marked image",
    check,
};

/// Every Flux setter marker in the output: policy name → files whose marked value is
/// the image (or tag) of that policy.
fn markers(cx: &LintContext<'_>) -> BTreeMap<String, Vec<(String, String)>> {
    const MARKER: &str = "{\"$imagepolicy\": \"";
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, file) in cx.output.iter() {
        // Most files hold no marker: one fast search skips them.
        if memchr::memmem::find(&file.bytes, MARKER.as_bytes()).is_none() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        let mut image_name = String::new();
        for line in text.lines() {
            if let Some(n) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("name: ")
            {
                image_name = n.trim().to_owned();
            }
            let Some((value, marker)) = line.split_once(" # {\"$imagepolicy\": \"") else {
                continue;
            };
            let policy = marker
                .trim_end_matches("\"}")
                .trim_end_matches(":tag")
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            let value = value
                .split_once(": ")
                .map_or("", |(_, v)| v)
                .trim()
                .to_owned();
            let image = if value.contains('/') {
                value
                    .rsplit_once(':')
                    .map_or(value.clone(), |(i, _)| i.to_owned())
            } else {
                image_name.clone()
            };
            out.entry(policy).or_default().push((path.clone(), image));
        }
    }
    out
}

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let repos: BTreeMap<String, String> = objects_of(cx, "ImageRepository")
        .map(|o| {
            (
                name(&o.value).to_owned(),
                ImageRepository::of(&o.value)
                    .map(|r| r.spec.image)
                    .unwrap_or_default(),
            )
        })
        .collect();
    let marked = markers(cx);
    for o in objects_of(cx, "ImagePolicy") {
        let policy = name(&o.value);
        let spec = ImagePolicy::of(&o.value)
            .map(|p| p.spec)
            .unwrap_or_default();
        let repo = spec.image_repository_ref.name.as_str();
        let Some(image) = repos.get(repo) else {
            points.broken(
                cx,
                &o.path,
                format!("`{policy}` reads ImageRepository `{repo}`, which does not exist"),
            );
            continue;
        };
        points.ok();
        let uses = marked.get(policy).cloned().unwrap_or_default();
        let matching = uses.iter().any(|(_, i)| i.is_empty() || i == image);
        points.expect(cx, !uses.is_empty() && matching, &o.path, || {
            format!("no overlay or compose file marks image `{image}` for `{policy}` (Flux would update nothing)")
        });
    }
}
