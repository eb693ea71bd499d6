//! CI tag format → ImagePolicy pattern: the pattern of each app's ImagePolicy is the
//! one its declared tag format gives, so the tags CI pushes are the ones Flux picks.

use super::{Points, Wire, name, objects_of};
use crate::crd::flux::ImagePolicy;
use crate::inspect::lint::LintContext;
use std::collections::BTreeMap;

/// This wire, listed in [`super::WIRES`].
pub(super) const WIRE: Wire = Wire {
    name: "CI tag format → ImagePolicy pattern",
    check,
};

fn check(cx: &LintContext<'_>, points: &mut Points<'_>) {
    let policies: BTreeMap<String, (String, &str)> = objects_of(cx, "ImagePolicy")
        .map(|o| {
            let pattern = ImagePolicy::of(&o.value)
                .and_then(|p| p.spec.filter_tags)
                .map(|f| f.pattern)
                .unwrap_or_default();
            (name(&o.value).to_owned(), (pattern, o.path.as_str()))
        })
        .collect();
    for env in &cx.project.environments {
        for (app_name, app) in env.model.enabled_apps() {
            let Some(image) = &app.image else { continue };
            let Some(format) = &image.tag_format else {
                continue;
            };
            let policy = crate::render::images::policy_name(app_name.as_str(), env.name.as_str());
            let Some((pattern, path)) = policies.get(&policy) else {
                continue;
            };
            let want = crate::model::tag_format::tag_policy(format)
                .map(|p| p.pattern)
                .unwrap_or_default();
            points.expect(cx, &want == pattern, path, || {
                format!("CI tags `{app_name}` as `{format}` but ImagePolicy `{policy}` filters `{pattern}`")
            });
        }
    }
}
