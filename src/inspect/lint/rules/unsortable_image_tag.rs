use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::TagAutomation;
use crate::model::tag_format::tag_policy;

/// A tag format Flux image automation cannot order.
pub(crate) struct UnsortableImageTag;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K013",
    name: "unsortable-image-tag",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A tag format Flux cannot sort in build order.",
    fix: "include {timestamp} (UTC YYYYMMDDhhmmss) or {run} in `image.tagFormat`",
    doc: r#"## What it does
Flags an app whose `tagFormat` has no part that orders tags in build order (`{timestamp}`
or `{run}`), and an app with `automation: flux` that declares no `tagFormat`.

## Why is this bad?
Flux's ImagePolicy picks the newest tag by sorting; a commit SHA does not sort, so Flux
would deploy an arbitrary build (seed 000: "Flux ImagePolicy requires chronologically
sortable tags"). kiln derives the policy's pattern from `tagFormat`, so it needs one.

## Example
```yaml
image: {registry: harbor, repository: shop/web, automation: flux, tagFormat: "main-{sha}"}
```
Use instead:
```yaml
image: {registry: harbor, repository: shop/web, automation: flux, tagFormat: "main-{sha}-{timestamp}"}
```

## How to fix
Add `{timestamp}` or `{run}` to `image.tagFormat` (e.g. `main-{sha}-{timestamp}`), and
give every app with `automation: flux` a `tagFormat`.
"#,
};

impl Rule for UnsortableImageTag {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(image) = &app.image else { continue };
                let pointer = format!("/apps/{name}/image");
                match &image.tag_format {
                    Some(format) => {
                        if let Err(why) = tag_policy(format) {
                            let d = sink
                                .diagnostic(why)
                                .at(env.span(&format!("{pointer}/tagFormat")))
                                .help("include {timestamp} (UTC YYYYMMDDhhmmss) or {run} so tags sort in build order");
                            sink.report(env, Subject::App(name.as_str()), d);
                        }
                    }
                    None if image.automation == TagAutomation::Flux && image.tag.is_none() => {
                        let d = sink
                            .diagnostic(format!("`{name}` uses Flux image automation but declares no `tagFormat`"))
                            .at(env.span(&format!("{pointer}/automation")))
                            .help("add the format CI tags images with, e.g. `tagFormat: main-{sha}-{timestamp}`");
                        sink.report(env, Subject::App(name.as_str()), d);
                    }
                    None => {}
                }
            }
        }
    }
}
