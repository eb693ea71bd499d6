//! Reading back what automation owns in the committed output: the image tags Flux
//! image automation (or `kiln set-image`) wrote into overlays' `images:` entries and
//! into the `image:` lines of host compose files.
//!
//! [`read`] reads them from `out/`; [`from_files`] from any set of files, such as a
//! git revision's `out/` for `kiln diff --against`.

use crate::boundary::{self, Refusal};
use crate::crd::sealed_secret::SealedSecretSpec;
use crate::error::Error;
use crate::layout::{self, StateFile, state_file};
use crate::model::{RejectedTag, State};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::Path;

/// Reads the image tags recorded in `out/kubernetes/apps/<app>/overlays/<env>/kustomization.yaml`
/// and `out/hosts/<host>/<project>/compose.yaml`, through [`crate::boundary`] (no link
/// followed).
///
/// A file that cannot be parsed contributes nothing: `check` will then report it as
/// hand-edited, and `build` rewrites it. A file or folder that cannot be read (its
/// permissions, a link, a FIFO) is an error: reading it as empty would reset the tags
/// automation recorded.
pub fn read(out_dir: &Path) -> Result<State, Error> {
    let names = |dir: &Path| -> Result<Vec<String>, Error> {
        match boundary::list(dir) {
            Ok(entries) => Ok(entries
                .into_iter()
                .filter(|(_, k)| *k == boundary::Kind::Dir)
                .map(|(name, _)| name)
                .collect()),
            Err(Refusal::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::refused(dir, e)),
        }
    };
    let files = |dir: &Path| -> Result<Vec<String>, Error> {
        match boundary::list(dir) {
            Ok(entries) => Ok(entries.into_iter().map(|(name, _)| name).collect()),
            Err(Refusal::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::refused(dir, e)),
        }
    };
    if !matches!(
        boundary::kind(out_dir).map_err(|e| Error::refused(out_dir, e))?,
        boundary::Kind::Dir | boundary::Kind::Missing
    ) {
        return Err(Error::refused(out_dir, Refusal::Symlink));
    }
    // The folders of the layout that can hold state files, walked as the layout
    // builds them; each candidate is kept only if it is one (`state_file`).
    let mut paths = Vec::new();
    for host in names(&out_dir.join(layout::HOSTS))? {
        for project in names(&out_dir.join(layout::host(&host)))? {
            paths.push(layout::compose(&host, &project));
        }
    }
    for cluster in names(&out_dir.join(layout::SECRETS))? {
        for namespace in names(&out_dir.join(layout::secrets(&cluster)))? {
            let dir = layout::secrets_namespace(&cluster, &namespace);
            for file in files(&out_dir.join(&dir))? {
                paths.push(layout::join(&dir, &file));
            }
        }
    }
    for app in names(&out_dir.join(layout::APPS))? {
        for env in names(&out_dir.join(layout::app_overlays(&app)))? {
            paths.push(layout::kustomization(&layout::app_overlay(&app, &env)));
        }
    }
    paths.retain(|p| state_file(p).is_some());
    // One file per app and environment: read and parsed in parallel, then taken in
    // the order found, as one after the other would.
    let found: Vec<Option<Found>> = paths
        .into_par_iter()
        .map(|path| {
            let full = out_dir.join(&path);
            match boundary::read(&full) {
                Ok(Some(bytes)) => Ok(Some(found_in(&path, bytes))),
                Ok(None) => Ok(None),
                Err(e) => Err(Error::refused(full, e)),
            }
        })
        .collect::<Result<_, Error>>()?;
    Ok(state_of(found.into_iter().flatten().collect()))
}

/// The state recorded in these files (paths relative to `out/`; other files are
/// ignored). A tag in an overlay wins over the same app's tag in a compose file.
pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> State {
    state_of(
        files
            .into_iter()
            .map(|(path, bytes)| found_in(&path, bytes))
            .collect(),
    )
}

/// The tags one file holds.
enum Found {
    Compose(Vec<((String, String), String)>, Vec<RejectedTag>),
    Overlay((String, String), Option<String>),
    Sealed(String, std::collections::BTreeMap<String, String>),
    Rejected(RejectedTag),
    Nothing,
}

/// `tag`, or why it is refused (located in `text`).
fn checked(
    key: (String, String),
    tag: String,
    path: &str,
    text: &str,
) -> Result<((String, String), String), Box<RejectedTag>> {
    match crate::model::tags::image_tag(&tag) {
        Ok(()) => Ok((key, tag)),
        Err(why) => Err(Box::new(RejectedTag {
            key,
            path: path.to_owned(),
            text: text.to_owned(),
            range: locate_tag(text, &tag),
            why,
        })),
    }
}

/// The span of the first string in `text` that is `tag` or an image reference ending
/// in `:tag` (the start of the file if the YAML cannot be read with spans).
fn locate_tag(text: &str, tag: &str) -> std::ops::Range<usize> {
    use crate::yaml::{Node, Value};
    fn find(node: &Node, tag: &str) -> Option<std::ops::Range<usize>> {
        match &node.value {
            Value::String(s)
                if s == tag
                    || s.strip_suffix(tag)
                        .is_some_and(|name| name.ends_with(':') && name.len() > 1) =>
            {
                Some(node.span.range())
            }
            Value::Seq(items) => items.iter().find_map(|n| find(n, tag)),
            Value::Map(entries) => entries.iter().find_map(|(_, n)| find(n, tag)),
            _ => None,
        }
    }
    crate::yaml::parse(crate::diagnostic::FileId(0), text)
        .ok()
        .and_then(|node| find(&node, tag))
        .unwrap_or(0..0)
}

/// The errors for the rejected tags of apps whose tag Flux image automation sets (a
/// build would write the tag into their manifests); the files are added to `sources`.
/// A rejected tag of any other app is not used, and the build rewrites its file.
pub fn rejected_tag_diagnostics(
    state: &State,
    environments: &[crate::model::Environment],
    sources: &mut crate::diagnostic::SourceMap,
) -> Vec<crate::diagnostic::Diagnostic> {
    use crate::diagnostic::{Diagnostic, Span, checks};
    let owned_by_flux = |(app, env): &(String, String)| {
        environments
            .iter()
            .find(|e| e.name.as_str() == env)
            .and_then(|e| e.model.apps.get(app.as_str()))
            .is_some_and(|a| a.flux_picks_tag())
    };
    let mut diags = Vec::new();
    for r in state.rejected_tags.iter().filter(|r| owned_by_flux(&r.key)) {
        let (app, env) = &r.key;
        let path = format!("out/{}", r.path);
        let id = match sources.find(std::path::Path::new(&path)) {
            Some(id) => id,
            None => sources.add(path.clone(), r.text.clone()),
        };
        diags.push(
            Diagnostic::error(
                checks::INVALID_VALUE,
                format!("the image tag of `{app}` in `{env}` is not an image tag: {}", r.why),
            )
            .at(Some(Span::new(id, r.range.start, r.range.end)))
            .help(format!(
                "Flux image automation writes this tag; restore the file (`git checkout -- {path}`) or pin `image.tag` of `{app}` in the model"
            )),
        );
    }
    diags
}

fn found_in(path: &str, bytes: Vec<u8>) -> Found {
    let Ok(text) = String::from_utf8(bytes) else {
        return Found::Nothing;
    };
    match state_file(path) {
        Some(StateFile::Compose) => {
            let (mut good, mut bad) = (Vec::new(), Vec::new());
            for (key, tag) in compose_tags(&text) {
                match checked(key, tag, path, &text) {
                    Ok(t) => good.push(t),
                    Err(r) => bad.push(*r),
                }
            }
            Found::Compose(good, bad)
        }
        Some(StateFile::Overlay { app, env }) => {
            let key = (app.to_owned(), env.to_owned());
            match first_image_tag(&text) {
                Some(tag) => match checked(key, tag, path, &text) {
                    Ok((key, tag)) => Found::Overlay(key, Some(tag)),
                    Err(r) => Found::Rejected(*r),
                },
                None => Found::Overlay(key, None),
            }
        }
        Some(StateFile::Sealed) => match sealed_values(&text) {
            Some(values) => Found::Sealed(path.to_owned(), values),
            None => Found::Nothing,
        },
        None => Found::Nothing,
    }
}

fn state_of(found: Vec<Found>) -> State {
    let mut state = State::default();
    let mut overlays = Vec::new();
    for f in found {
        match f {
            Found::Compose(tags, rejected) => {
                state.image_tags.extend(tags);
                state.rejected_tags.extend(rejected);
            }
            Found::Overlay(key, tag) => overlays.push((key, tag)),
            Found::Rejected(r) => state.rejected_tags.push(r),
            Found::Sealed(path, values) => {
                state.committed_sealed.insert(path, values);
            }
            Found::Nothing => {}
        }
    }
    for (key, tag) in overlays {
        if let Some(tag) = tag {
            state.image_tags.insert(key, tag);
        }
    }
    state
}

/// `spec.encryptedData` of a SealedSecret.
pub fn sealed_values(text: &str) -> Option<std::collections::BTreeMap<String, String>> {
    if let Some(values) = sealed_values_as_written(text) {
        return Some(values);
    }
    let v: serde_json::Value = serde_saphyr::from_str(text).ok()?;
    // Only the spec is read: a file that lost its `kind` still holds its values.
    v["spec"].get("encryptedData")?;
    Some(
        SealedSecretSpec::deserialize(&v["spec"])
            .ok()?
            .encrypted_data,
    )
}

/// `spec.encryptedData` read line by line, when the file has exactly the shape kiln
/// writes (`spec:` at the top level, `  encryptedData:` first under it, then per key
/// `    key:`, comment lines, and the value alone on a line, all plain scalars); `None`
/// for anything else, which the YAML parser then reads. Thousands of SealedSecrets are
/// read before every build, and a parse costs far more than this.
fn sealed_values_as_written(text: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let is_key = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let is_value = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    let mut lines = text.lines().skip_while(|l| *l != "spec:");
    lines.next()?;
    if lines.next()? != "  encryptedData:" {
        return None;
    }
    let mut out = std::collections::BTreeMap::new();
    let mut key: Option<&str> = None;
    for line in lines {
        if let Some(k) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
            if key.is_some() || !is_key(k) {
                return None;
            }
            key = Some(k);
        } else if let Some(rest) = line.strip_prefix("      ") {
            if rest.starts_with("# ") {
                continue;
            }
            if !is_value(rest) {
                return None;
            }
            out.insert(key.take()?.to_owned(), rest.to_owned());
        } else if line.starts_with("  ") && !line.starts_with("   ") && key.is_none() {
            // The next field of `spec`: the map has ended.
            return Some(out);
        } else {
            return None;
        }
    }
    None
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
    /// The line reader gives what the YAML parser gives for every SealedSecret in the
    /// committed output, and gives up on shapes it does not know.
    #[test]
    fn sealed_values_read_as_written_equal_the_parsed_ones() {
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("out/secrets");
        let mut seen = 0;
        for cluster in std::fs::read_dir(&out).unwrap().flatten() {
            for ns in std::fs::read_dir(cluster.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                for f in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
                    let name = f.file_name().to_string_lossy().into_owned();
                    if !name.starts_with("sealedsecret-") {
                        continue;
                    }
                    let text = std::fs::read_to_string(f.path()).unwrap();
                    let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
                    let want: std::collections::BTreeMap<String, String> =
                        parsed["spec"]["encryptedData"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                            .collect();
                    assert_eq!(sealed_values_as_written(&text), Some(want), "{name}");
                    seen += 1;
                }
            }
        }
        assert!(seen > 3, "only {seen} SealedSecrets in out/secrets");
        for odd in [
            "spec:\n  encryptedData:\n    a: AQB=\n  template: {}\n",
            "spec:\n  encryptedData:\n    a:\n      \"AQB\"\n",
            "spec:\n  encryptedData:\n    a:\n      AQB\n      more\n",
            "spec:\n  encryptedData: {a: AQB}\n",
        ] {
            assert_eq!(sealed_values_as_written(odd), None, "{odd}");
        }
        assert_eq!(
            sealed_values("spec:\n  encryptedData:\n    a: AQB=\n").unwrap()["a"],
            "AQB="
        );
    }

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
    fn tags_that_are_not_image_tags_are_kept_out_and_located() {
        let overlay = "images:\n- name: reg/web\n  newTag: \"v1\\nid\" # marker\n";
        let compose = "services:\n  api:\n    image: reg/api:v2;id\n    labels:\n      kiln.app: api\n      kiln.env: prod\n  ok:\n    image: reg/ok:v3\n    labels:\n      kiln.app: ok\n      kiln.env: prod\n";
        let state = from_files([
            (
                "kubernetes/apps/web/overlays/prod/kustomization.yaml".to_owned(),
                overlay.as_bytes().to_vec(),
            ),
            (
                "hosts/vm/shop-prod/compose.yaml".to_owned(),
                compose.as_bytes().to_vec(),
            ),
        ]);
        let key = |app: &str| (app.to_owned(), "prod".to_owned());
        assert_eq!(state.image_tags.keys().collect::<Vec<_>>(), [&key("ok")]);
        let rejected: Vec<_> = state
            .rejected_tags
            .iter()
            .map(|r| (r.key.clone(), &r.text[r.range.clone()]))
            .collect();
        assert_eq!(
            rejected,
            [(key("web"), "\"v1\\nid\""), (key("api"), "reg/api:v2;id")]
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
