//! Reading back what automation owns in the committed output: the image tags Flux
//! image automation (or `kiln set-image`) wrote into overlays' `images:` entries and
//! into the `image:` lines of host compose files.

use crate::render::State;
use std::path::Path;

/// Reads the image tags recorded in `out/kubernetes/apps/<app>/overlays/<env>/kustomization.yaml`.
///
/// A file that cannot be read or parsed contributes nothing: `check` will then report
/// it as hand-edited, and `build` rewrites it.
pub fn read(out_dir: &Path) -> State {
    let mut state = State::default();
    read_compose_tags(out_dir, &mut state);
    let apps = out_dir.join("kubernetes").join("apps");
    let Ok(entries) = std::fs::read_dir(&apps) else {
        return state;
    };
    for app in entries.flatten() {
        let Ok(envs) = std::fs::read_dir(app.path().join("overlays")) else {
            continue;
        };
        for env in envs.flatten() {
            let file = env.path().join("kustomization.yaml");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Some(tag) = first_image_tag(&text) {
                state.image_tags.insert(
                    (
                        app.file_name().to_string_lossy().into_owned(),
                        env.file_name().to_string_lossy().into_owned(),
                    ),
                    tag,
                );
            }
        }
    }
    state
}

/// Reads the tags in `out/hosts/<host>/<project>/compose.yaml`: every service
/// labelled with `kiln.app` and `kiln.env` runs that app's image.
fn read_compose_tags(out_dir: &Path, state: &mut State) {
    let Ok(hosts) = std::fs::read_dir(out_dir.join("hosts")) else {
        return;
    };
    for host in hosts.flatten() {
        let Ok(projects) = std::fs::read_dir(host.path()) else {
            continue;
        };
        for project in projects.flatten() {
            let Ok(text) = std::fs::read_to_string(project.path().join("compose.yaml")) else {
                continue;
            };
            for (key, tag) in compose_tags(&text) {
                state.image_tags.insert(key, tag);
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct Compose {
    #[serde(default)]
    services: std::collections::BTreeMap<String, ComposeService>,
}

#[derive(serde::Deserialize)]
struct ComposeService {
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

/// (app, env) → tag of every labelled service whose service name is the app's (its
/// database and backup services carry the same labels but run other images).
fn compose_tags(text: &str) -> Vec<((String, String), String)> {
    let Ok(parsed) = serde_saphyr::from_str::<Compose>(text) else {
        return Vec::new();
    };
    let labels = (
        crate::render::hosts::APP_LABEL,
        crate::render::hosts::ENV_LABEL,
    );
    parsed
        .services
        .into_iter()
        .filter_map(|(service, s)| {
            let app = s.labels.get(labels.0)?;
            let env = s.labels.get(labels.1)?;
            if *app != service {
                return None;
            }
            let image = s.image?;
            let (_, tag) = image
                .rsplit_once(':')
                .filter(|(name, tag)| !tag.contains('/') && !name.is_empty())?;
            (!tag.is_empty() && tag != crate::render::images::UNSET_TAG)
                .then(|| ((app.clone(), env.clone()), tag.to_owned()))
        })
        .collect()
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
    fn reads_the_tag_flux_wrote_with_its_marker() {
        let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: reg/app\n  newTag: main-abc-20260101 # {\"$imagepolicy\": \"flux-system:app-prod:tag\"}\n";
        assert_eq!(first_image_tag(text).as_deref(), Some("main-abc-20260101"));
    }

    #[test]
    fn reads_the_tag_flux_wrote_into_a_compose_file() {
        let text = "name: shop-prod\nservices:\n  api:\n    image: reg.lan:5000/shop/api:main-abc-20260101 # {\"$imagepolicy\": \"flux-system:api-prod\"}\n    labels:\n      kiln.app: api\n      kiln.env: prod\n  api-db:\n    image: postgres:18-alpine\n    labels:\n      kiln.app: api\n      kiln.env: prod\n  other:\n    image: reg.lan:5000/x:unset\n    labels:\n      kiln.app: other\n      kiln.env: prod\n";
        assert_eq!(
            compose_tags(text),
            vec![(
                ("api".to_owned(), "prod".to_owned()),
                "main-abc-20260101".to_owned()
            )]
        );
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
