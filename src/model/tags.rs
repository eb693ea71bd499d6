//! The model's tag state: `environments/state/image-tags.yaml`, where
//! `kiln set-image` records the tag a push-deployed app runs in each environment, so
//! the committed output always says what runs (and a build never reverts it).
//!
//! ```yaml
//! prod:
//!   invoicetron: prod-3f9c2a1-20260207143000
//! ```

use super::files::Files;
use crate::diagnostic::{Diagnostic, SourceMap, Span, checks};
use crate::yaml::{self, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file, relative to the project root.
pub const TAGS_FILE: &str = "environments/state/image-tags.yaml";
/// The folder of state written by automation.
pub const STATE_DIR: &str = "environments/state";

const HEADER: &str = "# Written by `kiln set-image`: the image tag each push-deployed app runs, per\n# environment. Commit it with out/; change it only with `kiln set-image`.\n";

/// Recorded tags: (app, environment) → tag.
pub type RecordedTags = BTreeMap<(String, String), String>;

/// The tag file's path under `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(TAGS_FILE)
}

/// Reads the recorded tags from the working tree under `root`; a missing file records
/// nothing.
pub fn load(root: &Path, sources: &mut SourceMap) -> (RecordedTags, Vec<Diagnostic>) {
    load_files(&Files::read(root), sources)
}

/// Reads the recorded tags from the model's input files (the working tree's or a git
/// revision's); a missing file records nothing.
pub fn load_files(files: &Files, sources: &mut SourceMap) -> (RecordedTags, Vec<Diagnostic>) {
    let mut tags = RecordedTags::new();
    // An unreadable state/ folder is not an empty one: the tags would be reset.
    let mut diags = super::load::problems(files, sources, |p| super::files::is_under(p, STATE_DIR));
    if !diags.is_empty() {
        return (tags, diags);
    }
    let Some(entry) = files.get(TAGS_FILE) else {
        return (tags, diags);
    };
    let id = match super::load::add_source(entry, &files.source_path(TAGS_FILE), sources) {
        Ok(id) => id,
        Err(d) => {
            diags.push(*d);
            return (tags, diags);
        }
    };
    let node = match yaml::parse(id, &sources.file(id).text) {
        Ok(n) => n,
        Err(errors) => return (tags, errors),
    };
    let bad = |span: Span, what: &str| {
        Diagnostic::error(checks::SCHEMA, format!("{TAGS_FILE}: {what}"))
            .at(Some(span))
            .help("this file is written by `kiln set-image APP TAG --env ENV`")
    };
    match &node.value {
        Value::Null => {}
        Value::Map(envs) => {
            for (env, apps) in envs {
                let Value::Map(apps) = &apps.value else {
                    diags.push(bad(apps.span, "expected a mapping of app → tag"));
                    continue;
                };
                for (app, tag) in apps {
                    let Some(t) = tag.as_str() else {
                        diags.push(bad(tag.span, "a tag is a string"));
                        continue;
                    };
                    if let Err(why) = crate::model::tags::image_tag(t) {
                        // Names are shown only when they are names: the file may hold anything.
                        let name = |n: &str| {
                            super::Name::parse(n).map_or("…".to_owned(), |n| n.to_string())
                        };
                        let (app, env) = (name(&app.name), name(&env.name));
                        diags.push(
                            Diagnostic::error(
                                checks::INVALID_VALUE,
                                format!("the tag recorded for `{app}` in `{env}` is not an image tag: {why}"),
                            )
                            .at(Some(tag.span))
                            .help(format!(
                                "record the tag that was deployed with `kiln set-image {app} TAG --env {env}`"
                            )),
                        );
                        continue;
                    }
                    tags.insert((app.name.clone(), env.name.clone()), t.to_owned());
                }
            }
        }
        _ => diags.push(bad(
            node.span,
            "expected a mapping of environment → app → tag",
        )),
    }
    (tags, diags)
}

/// The file's text for `tags`.
pub fn render(tags: &RecordedTags) -> String {
    let mut by_env: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for ((app, env), tag) in tags {
        by_env.entry(env).or_default().insert(app, tag);
    }
    let mut out = String::from(HEADER);
    out.push_str(&crate::yaml::write::to_string(&by_env));
    out
}

/// The one image-tag rule: `kiln set-image` checks the tag it is given with it, and
/// the tags read back from `environments/state/image-tags.yaml` and from `out/`
/// are refused by it, located in their files.
///
/// Whether `tag` is an image tag (letters, digits, `_`, `.`, `-`, not starting with
/// `.` or `-`, at most 128 characters: the OCI distribution grammar); the error says
/// what is wrong without quoting the tag.
pub fn image_tag(tag: &str) -> Result<(), String> {
    const WHAT: &str = "an image tag has letters, digits, `_`, `.` and `-`, does not start with `.` or `-`, and has at most 128 characters";
    if tag.is_empty() {
        return Err(format!("the tag is empty: {WHAT}"));
    }
    if tag.len() > 128 {
        return Err(format!("the tag has {} characters: {WHAT}", tag.len()));
    }
    if let Some(c) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "the tag contains {}: {WHAT}",
            crate::diagnostic::describe_char(c)
        ));
    }
    if tag.starts_with(['.', '-']) {
        return Err(format!("the tag starts with `{}`: {WHAT}", &tag[..1]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_follow_the_oci_grammar_and_errors_never_quote_them() {
        for ok in [
            "prod-3f9c2a1-20260207143000",
            "1.2.3",
            "_x",
            "v1_beta",
            &"x".repeat(128),
        ] {
            assert_eq!(image_tag(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("-x", "starts with `-`"),
            (".x", "starts with `.`"),
            ("a b", "a space"),
            ("v1;id", "`;`"),
            ("v1\ncurl", "a line break"),
            ("v1\u{7}", "U+0007"),
            ("a:b", "`:`"),
            (&"x".repeat(129), "129 characters"),
        ] {
            let got = image_tag(bad).expect_err(bad);
            assert!(got.contains(why), "{bad:?}: {got}");
            if bad.len() > 1 {
                assert!(!got.contains(bad), "{got} quotes the tag");
            }
        }
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut tags = RecordedTags::new();
        tags.insert(
            ("web".into(), "prod".into()),
            "prod-abc1234-20260101000000".into(),
        );
        tags.insert(("api".into(), "dev".into()), "0755".into());
        std::fs::create_dir_all(path(dir.path()).parent().unwrap()).unwrap();
        std::fs::write(path(dir.path()), render(&tags)).unwrap();
        let (back, diags) = load(dir.path(), &mut SourceMap::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(back, tags);
    }
}
