//! What automation owns in the committed output (image tags Flux or `kiln set-image`
//! wrote, the committed sealed values), read back by the output stage before
//! rendering, so a build never reverts it.

use std::collections::BTreeMap;

/// Tags that automation owns, read before rendering so a build never reverts them.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Image tags Flux image automation committed into the output, by (app, environment).
    pub image_tags: BTreeMap<(String, String), String>,
    /// Image tags recorded by `kiln set-image`, by (app, environment).
    pub recorded_tags: BTreeMap<(String, String), String>,
    /// The sealed values of the committed SealedSecrets: path under `out/` → key →
    /// ciphertext (to tell which values a build changes).
    pub committed_sealed: BTreeMap<String, BTreeMap<String, String>>,
    /// Tags found in the committed output that are not image tags (left out of
    /// `image_tags`; errors for the apps whose tag automation sets).
    pub rejected_tags: Vec<RejectedTag>,
}

/// A tag in `out/` that is not an image tag (see
/// [`crate::model::tags::image_tag`]): kept out of the state, and an
/// error where it is when the app's tag is Flux's to set (`output::state::rejected_tag_diagnostics`).
#[derive(Clone, Debug)]
pub struct RejectedTag {
    /// The app and environment the tag is for.
    pub key: (String, String),
    /// The file, relative to `out/`.
    pub path: String,
    /// The file's text.
    pub text: String,
    /// Where the tag is written in it.
    pub range: std::ops::Range<usize>,
    /// What is wrong with it.
    pub why: String,
}
