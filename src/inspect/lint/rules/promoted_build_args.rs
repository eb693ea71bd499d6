use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use std::collections::BTreeSet;

/// One image promoted across environments whose build arguments differ.
pub(crate) struct PromotedBuildArgs;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K016",
    name: "promoted-build-args",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "An environment promotes another's image while their build arguments differ.",
    fix: "build this environment's own image (drop `promoteFrom`), or make the setting a runtime one",
    doc: r#"## What it does
Flags an environment that promotes the image another environment built
(`build.promoteFrom`) while the two environments' build arguments or build secrets
differ.

## Why is this bad?
Build arguments are baked into the image. A Next.js app's `NEXT_PUBLIC_APP_URL`, a
React build's API URL: the promoted image carries the *source* environment's values,
so prod would talk to dev's URL (the Invoicetron seed: "NEXT_PUBLIC_APP_URL is baked
at build time. Each environment builds its own image ... You cannot promote the same
artifact across environments").

## Example
```yaml
# dev.yaml
apps:
  web:
    build: {branch: develop, args: {NEXT_PUBLIC_APP_URL: https://web.dev.example.com}}
# prod.yaml
apps:
  web:
    build:
      branch: main
      promoteFrom: dev
      args: {NEXT_PUBLIC_APP_URL: https://web.example.com}   # differs from dev's
```
Use instead: drop `promoteFrom` so prod builds its own image, or make the value a
runtime setting so both environments build the same image.

## How to fix
Drop `build.promoteFrom` so the environment builds its own image, or make the value a
runtime setting (read from the environment when the app starts) so both environments
can run one image.
"#,
};

impl Rule for PromotedBuildArgs {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(build) = &app.build else { continue };
                let Some(from) = &build.promote_from else {
                    continue;
                };
                let Some((source_env, source)) = cx
                    .project
                    .environment(from.as_str())
                    .and_then(|e| Some((e, e.model.apps.get(name)?.build.as_ref()?)))
                else {
                    continue;
                };
                let here = format!("/apps/{name}/build");
                let mut differing = Vec::new();
                for (kind, mine, theirs) in [
                    ("args", to_set(&build.args), to_set(&source.args)),
                    ("secrets", to_set(&build.secrets), to_set(&source.secrets)),
                ] {
                    let keys: BTreeSet<&String> = mine
                        .symmetric_difference(&theirs)
                        .map(|(k, _)| *k)
                        .collect();
                    differing.extend(keys.into_iter().map(|k| (kind, k)));
                }
                let Some((kind, first)) = differing.first().copied() else {
                    continue;
                };
                let names: Vec<String> = differing.iter().map(|(_, k)| format!("`{k}`")).collect();
                let value_of = |b: &crate::model::Build| match kind {
                    "args" => b.args.get(first).cloned(),
                    _ => b.secrets.get(first).cloned(),
                };
                let show =
                    |v: Option<String>| v.map_or_else(|| "unset".to_owned(), |v| format!("`{v}`"));
                let d = sink
                    .diagnostic(format!(
                        "`{}` promotes the `{name}` image `{from}` built, but their build {kind} differ: {}",
                        env.name,
                        names.join(", ")
                    ))
                    .at(env.span(&format!("{here}/promoteFrom")))
                    .label(
                        env.span(&format!("{here}/{kind}/{first}")),
                        format!("{} in `{}`", show(value_of(build)), env.name),
                    )
                    .label(
                        source_env.span(&format!("{here}/{kind}/{first}")),
                        format!("{} in `{from}`, baked into the image", show(value_of(source))),
                    )
                    .help("build this environment's own image (drop `promoteFrom`), or make the setting a runtime one");
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}

fn to_set(map: &std::collections::BTreeMap<String, String>) -> BTreeSet<(&String, &String)> {
    map.iter().collect()
}
