use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject, locate};

/// An image that runs whatever `latest` (or no tag) means today.
pub(crate) struct LatestImageTag;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K001",
    name: "latest-image-tag",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "An image tagged `latest`, or not tagged at all.",
    fix: "pin the image to a tag CI produces (`image.tag`, or `kiln set-image APP TAG --env ENV`)",
    doc: r#"## What it does
Flags an app whose image tag is pinned to `latest`, and any image in the output without a
tag or tagged `latest`.

## Why is this bad?
`latest` names a different image every time something is pushed: two pods of one
Deployment can run different code, a rollback rolls back to nothing, and the committed
output no longer says what runs.

## Example
```yaml
apps:
  web:
    image: {registry: hub, repository: team/web, tag: latest}
```
Use instead a tag CI produces (`tagFormat`), pinned or recorded with `kiln set-image`:
```yaml
apps:
  web:
    image: {registry: hub, repository: team/web, tag: "1.4.2"}
```

## How to fix
Pin a tag CI produced: set `image.tag`, or let automation record it (`image.automation: push`
and `kiln set-image`, or `automation: flux`). Never deploy `latest`.
"#,
};

impl Rule for LatestImageTag {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(image) = &app.image else { continue };
                if image.tag.as_deref() == Some("latest") {
                    let d = sink
                        .diagnostic(format!("`{name}` runs the `latest` tag"))
                        .at(env.span(&format!("/apps/{name}/image/tag")));
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
        for object in cx.objects() {
            for image in images(&object.value) {
                let tag = image
                    .rsplit_once(':')
                    .filter(|(_, t)| !t.contains('/'))
                    .map(|(_, t)| t);
                if matches!(tag, None | Some("latest")) {
                    let (env, subject, span) = locate(cx, &object.path);
                    let Some(env) = env else { continue };
                    let d = sink
                        .diagnostic(format!(
                            "out/{} runs image `{image}` without a fixed tag",
                            object.path
                        ))
                        .at(span);
                    sink.report(env, subject, d);
                }
            }
        }
    }
}

/// Every container image of a workload object.
pub(crate) fn images(value: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    let spec = &value["spec"];
    for pod in [
        &spec["template"]["spec"],
        &spec["jobTemplate"]["spec"]["template"]["spec"],
    ] {
        for list in ["containers", "initContainers"] {
            for c in pod[list].as_array().into_iter().flatten() {
                if let Some(i) = c["image"].as_str() {
                    out.push(i);
                }
            }
        }
    }
    out
}
