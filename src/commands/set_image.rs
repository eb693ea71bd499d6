//! `kiln set-image APP TAG --env E`: record the tag a push-deploy pipeline deployed in
//! the model's tag state, then build, so the committed output says what runs.

use super::{Outcome, Printer, build};
use crate::cli::{BuildArgs, GlobalArgs, SetImageArgs};
use crate::diagnostic::SourceMap;
use crate::model::{TagAutomation, tags};
use crate::output::atomic_write;

pub(super) fn run(g: &GlobalArgs, args: &SetImageArgs, out: &Printer) -> crate::Result<Outcome> {
    if g.envs.is_empty() {
        return Err(crate::Error::Usage(
            "set-image needs --env: the environment the tag was deployed to".to_owned(),
        ));
    }
    if let Err(why) = crate::model::tags::image_tag(&args.tag) {
        return Err(crate::Error::Usage(format!(
            "{:?} is not a valid image tag: {why}",
            args.tag
        )));
    }
    let (project, diags) = crate::model::load(&g.root);
    if diags.has_errors() {
        let sources = &project.sources;
        out.diagnostics(&diags.into_sorted(sources), sources);
        return Ok(Outcome::Error);
    }
    super::check_envs(g, &project)?;
    for env_name in &g.envs {
        let env = project
            .environment(env_name)
            .ok_or_else(|| crate::Error::Usage(format!("no environment {env_name}")))?;
        let Some(app) = env.model.apps.get(args.app.as_str()) else {
            let known: Vec<&str> = env.model.apps.keys().map(|n| n.as_str()).collect();
            return Err(crate::Error::Usage(format!(
                "no app `{}` in {env_name}{} (apps: {})",
                args.app,
                crate::suggest::hint(&args.app, known.iter().copied()),
                known.join(", ")
            )));
        };
        if app.is_data_service() {
            return Err(crate::Error::Usage(format!(
                "`{}` has no image in {env_name}: it is a data service (only its database runs)",
                args.app
            )));
        }
        if let Some(pinned) = app.pinned_tag() {
            return Err(crate::Error::Usage(format!(
                "the model pins `{}` to `{pinned}` in {env_name}: a pinned tag always wins; change `image.tag` in the model instead",
                args.app
            )));
        }
        if app.automation() == TagAutomation::Flux {
            return Err(crate::Error::Usage(format!(
                "Flux image automation owns the tag of `{}` (`image.automation: flux`); it commits new tags itself",
                args.app
            )));
        }
        if let Some(format) = app.image.as_ref().and_then(|i| i.tag_format.as_ref())
            && let Ok(policy) = crate::model::tag_format::tag_policy(format)
            && !matches_pattern(&policy.pattern, &args.tag)
        {
            out.summary(&format!(
                "warning: `{}` does not match the app's tagFormat `{format}`",
                args.tag
            ));
        }
    }
    let _lock = super::lock_project(g, true, out)?;
    let mut sources = SourceMap::default();
    let (mut recorded, tag_diags) = tags::load(&g.root, &mut sources);
    if tag_diags.iter().any(|d| d.is_error()) {
        out.diagnostics(&tag_diags, &sources);
        return Ok(Outcome::Error);
    }
    for env_name in &g.envs {
        recorded.insert((args.app.clone(), env_name.clone()), args.tag.clone());
    }
    atomic_write(
        &g.root,
        tags::TAGS_FILE,
        tags::render(&recorded).as_bytes(),
        false,
    )?;
    out.summary(&format!(
        "recorded {} = {} in {}",
        args.app,
        args.tag,
        g.envs.join(", ")
    ));
    build::run_locked(
        g,
        &BuildArgs {
            force: false,
            fsync: false,
            no_cache: false,
        },
        out,
    )
}

/// Whether `tag` matches a Flux ImagePolicy pattern (RE2 syntax, which `regex` accepts).
fn matches_pattern(pattern: &str, tag: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|re| re.is_match(tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tag_format::tag_policy;

    #[test]
    fn tags_are_checked_against_the_declared_format() {
        let p = tag_policy("prod-{sha}-{timestamp}").unwrap().pattern;
        assert!(matches_pattern(&p, "prod-3f9c2a1-20260207143000"));
        assert!(!matches_pattern(&p, "dev-3f9c2a1-20260207143000"));
        assert!(!matches_pattern(&p, "prod-3f9c2a1-2026020714300"));
        let p = tag_policy("v1.{run}").unwrap().pattern;
        assert!(matches_pattern(&p, "v1.42"));
        assert!(!matches_pattern(&p, "v1x42"));
    }
}
