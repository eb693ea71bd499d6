//! Image references and tags, shared by every target that writes an image.
//!
//! An app's tag in an environment is, in order: the tag pinned in the model; else, for
//! `automation: flux`, the tag Flux image automation committed into the output (read
//! back by the output stage); for `automation: push`, the tag recorded by
//! `kiln set-image` in `environments/state/image-tags.yaml`; else [`UNSET_TAG`] with a
//! warning. A build therefore never reverts a tag that automation set.

use super::Context;
use crate::diagnostic::{Diagnostic, Diagnostics, checks::IMAGE_TAG_UNKNOWN};
use crate::model::{App, Environment, Name, TagAutomation};

/// The tag written when neither the model nor automation has given one.
pub const UNSET_TAG: &str = "unset";

pub use crate::model::placement::FLUX_NAMESPACE;

/// The name of an app's ImageRepository and ImagePolicy in an environment.
pub fn policy_name(app: &str, env: &str) -> String {
    format!("{app}-{env}")
}

/// The Flux setter marker for an app's image in an environment: on a tag field
/// (`newTag`) when `tag_only`, on a full image reference (`image:` in compose) otherwise.
pub fn setter_marker(app: &str, env: &str, tag_only: bool) -> String {
    let policy = policy_name(app, env);
    if tag_only {
        format!("{{\"$imagepolicy\": \"{FLUX_NAMESPACE}:{policy}:tag\"}}")
    } else {
        format!("{{\"$imagepolicy\": \"{FLUX_NAMESPACE}:{policy}\"}}")
    }
}

/// The marker to write next to an app's tag, when Flux owns it.
pub fn marker_for(app_name: &str, app: &App, env: &str, tag_only: bool) -> Option<String> {
    app.flux_picks_tag()
        .then(|| setter_marker(app_name, env, tag_only))
}

/// The tag an app's image gets in an environment (see the module docs).
pub fn tag(
    cx: &Context<'_>,
    env: &Environment,
    name: &Name,
    app: &App,
    diags: &mut Diagnostics,
) -> String {
    if let Some(tag) = app.pinned_tag() {
        return tag.to_owned();
    }
    let key = (name.to_string(), env.name.to_string());
    let found = match app.automation() {
        TagAutomation::Flux => cx.state.image_tags.get(&key),
        TagAutomation::Push => cx.state.recorded_tags.get(&key),
    };
    if let Some(tag) = found {
        return tag.clone();
    }
    let help = match app.automation() {
        TagAutomation::Flux => "Flux image automation writes it after CI pushes the first image; pin `image.tag` to start from a known one".to_owned(),
        TagAutomation::Push => format!(
            "record the deployed tag with `kiln set-image {name} TAG --env {}`, or pin `image.tag`",
            env.name
        ),
    };
    diags.push(
        Diagnostic::warning(
            IMAGE_TAG_UNKNOWN,
            format!(
                "no tag is known for the image of `{name}` in `{}`",
                env.name
            ),
        )
        .at(env.span(&format!("/apps/{name}/image")))
        .help(help),
    );
    UNSET_TAG.to_owned()
}
