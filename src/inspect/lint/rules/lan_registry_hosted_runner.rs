use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::Runner;

/// A hosted CI runner pushing to a registry only the local network reaches.
pub(crate) struct LanRegistryHostedRunner;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K017",
    name: "lan-registry-hosted-runner",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A hosted CI runner pushes to a registry that only the LAN reaches.",
    fix: "run the pipeline on a self-hosted runner on the LAN: `runner: {selfHosted: [...]}`",
    doc: r#"## What it does
Flags an app whose image is pushed to a registry marked `lanOnly` by a pipeline that
runs on the CI provider's hosted runners (`build.runner: hosted`, the default).

## Why is this bad?
Hosted runners (GitHub's, gitlab.com's shared runners) run in the provider's cloud and
cannot reach a registry on your LAN: the login or the push times out, every build
fails. The storefront seed learned it the hard way ("cloud runners cannot reach LAN
Harbor registry") and moved to a self-hosted runner.

## Example
```yaml
registries:
  harbor: {host: harbor.home.arpa, lanOnly: true}
apps:
  web:
    image: {registry: harbor, repository: shop/web}
    build: {repository: https://github.com/me/shop, ci: github, branch: main}
```
Use instead a self-hosted runner on the LAN:
```yaml
    build:
      repository: https://github.com/me/shop
      ci: github
      branch: main
      runner: {selfHosted: [linux, x64, lan]}
```

## How to fix
Set `build.runner: {selfHosted: [labels...]}` to a runner on the LAN (GitHub's
self-hosted runner or a GitLab runner), or make the registry reachable from outside and
drop `lanOnly`.
"#,
};

impl Rule for LanRegistryHostedRunner {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            let m = &env.model;
            for (name, app) in m.enabled_apps() {
                let Some(image) = &app.image else { continue };
                let Some(build) = &app.build else { continue };
                let Some(registry) = m.registries.get(&image.registry) else {
                    continue;
                };
                if !registry.lan_only || build.runner != Runner::Hosted {
                    continue;
                }
                let d = sink
                    .diagnostic(format!(
                        "`{name}` is built on hosted runners, which cannot reach the LAN-only registry `{}` ({})",
                        image.registry, registry.host
                    ))
                    .at(env.span(&format!("/apps/{name}/build/runner")))
                    .label(
                        env.span(&format!("/registries/{}/lanOnly", image.registry)),
                        "reachable only from the LAN",
                    )
                    .help("run the pipeline on a self-hosted runner on the LAN: `runner: {selfHosted: [linux, x64, lan]}`");
                sink.report(env, Subject::App(name.as_str()), d);
            }
        }
    }
}
