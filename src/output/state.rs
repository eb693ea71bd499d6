//! Reading back what automation owns in the committed output: the image tags Flux
//! image automation (or `kiln set-image`) wrote into overlays' `images:` entries.

use crate::render::State;
use std::path::Path;

/// Where automation-owned values live, under `out/`.
pub const STATE_DIR: &str = "kubernetes/apps";

/// Reads the image tags recorded in `out/kubernetes/apps/<app>/overlays/<env>/kustomization.yaml`.
///
/// A file that cannot be read or parsed contributes nothing: `check` will then report
/// it as hand-edited, and `build` rewrites it.
pub fn read(out_dir: &Path) -> State {
    let mut files = Vec::new();
    let apps = out_dir.join(STATE_DIR);
    let Ok(entries) = std::fs::read_dir(&apps) else {
        return State::default();
    };
    for app in entries.flatten() {
        let Ok(envs) = std::fs::read_dir(app.path().join("overlays")) else {
            continue;
        };
        for env in envs.flatten() {
            let path = format!(
                "{STATE_DIR}/{}/overlays/{}/kustomization.yaml",
                app.file_name().to_string_lossy(),
                env.file_name().to_string_lossy()
            );
            if let Ok(bytes) = std::fs::read(out_dir.join(&path)) {
                files.push((path, bytes));
            }
        }
    }
    from_files(files)
}

/// The `(app, env)` a state file belongs to, for a path relative to `out/`.
pub fn state_file(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(STATE_DIR)?.strip_prefix('/')?;
    match rest.split('/').collect::<Vec<_>>()[..] {
        [app, "overlays", env, "kustomization.yaml"] => Some((app, env)),
        _ => None,
    }
}

/// The state recorded in these files (paths relative to `out/`; other files are
/// ignored), e.g. as read from a git revision.
pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> State {
    let mut state = State::default();
    for (path, bytes) in files {
        let Some((app, env)) = state_file(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Some(tag) = first_image_tag(text) {
            state
                .image_tags
                .insert((app.to_owned(), env.to_owned()), tag);
        }
    }
    state
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Images {
    #[serde(default)]
    images: Vec<ImageEntry>,
    #[serde(default)]
    common_annotations: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageEntry {
    #[serde(default)]
    new_tag: Option<String>,
}

/// The `newTag` of the first `images:` entry (the app's own image comes first), or
/// for an app on a host, the deployed-tag annotation its deploy Job is triggered by.
fn first_image_tag(text: &str) -> Option<String> {
    let parsed: Images = serde_saphyr::from_str(text).ok()?;
    let annotation = crate::render::kubernetes::DEPLOYED_TAG_ANNOTATION;
    parsed
        .images
        .into_iter()
        .find_map(|i| i.new_tag)
        .or_else(|| parsed.common_annotations.get(annotation).cloned())
        .filter(|t| !t.is_empty() && t != crate::render::images::UNSET_TAG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_are_overlay_kustomizations() {
        assert_eq!(
            state_file("kubernetes/apps/web/overlays/prod/kustomization.yaml"),
            Some(("web", "prod"))
        );
        assert_eq!(
            state_file("kubernetes/apps/web/base/kustomization.yaml"),
            None
        );
        assert_eq!(
            state_file("kubernetes/apps/web/overlays/prod/patches/x.yaml"),
            None
        );
    }

    #[test]
    fn reads_the_tag_flux_wrote_with_its_marker() {
        let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: reg/app\n  newTag: main-abc-20260101 # {\"$imagepolicy\": \"flux-system:app-prod:tag\"}\n";
        assert_eq!(first_image_tag(text).as_deref(), Some("main-abc-20260101"));
    }

    #[test]
    fn reads_a_host_apps_deployed_tag_and_ignores_the_unset_placeholder() {
        let text = "commonAnnotations:\n  kiln.dev/deployed-tag: main-def-20260102 # {\"$imagepolicy\": \"flux-system:b-prod:tag\"}\n";
        assert_eq!(first_image_tag(text).as_deref(), Some("main-def-20260102"));
        assert_eq!(
            first_image_tag("images:\n- name: x\n  newTag: unset\n"),
            None
        );
    }
}
