//! Pipelines: the CI files kiln writes for each app's repository.

use super::{Check, Kind};

family! {
    PIPELINES;

    /// A branch builds two environments of one app.
    BRANCH_CONFLICT = Check {
        code: "E0601",
        name: "branch-conflict",
        kind: Kind::Error,
        summary: "One branch builds two environments of one app.",
        fix: "give each environment its own `build.branch` in its file",
        doc: r#"## What it does
Collects every environment's `build.branch` of an app and reports a branch that two
environments build from.

## Why is this bad?
An app's repository gets one pipeline; a push to the branch could not tell which
environment to build and deploy, so it would deploy both or the wrong one.

## Example
```yaml
# common.yaml
apps:
  web:
    build: {repository: https://github.com/me/web, ci: github, branch: main}
# neither dev.yaml nor prod.yaml sets its own branch
```

## How to fix
Set the branch per environment: `build: {branch: develop}` in `dev.yaml`,
`build: {branch: main}` in `prod.yaml`.
"#,
    };

    /// App-level build settings differ between environments.
    PIPELINE_MISMATCH = Check {
        code: "E0602",
        name: "pipeline-mismatch",
        kind: Kind::Error,
        summary: "Build settings that belong to the app's one pipeline differ between environments.",
        fix: "set the field once, in the shared base, so every environment has the same value",
        doc: r#"## What it does
Compares the build settings that describe the app's repository and pipeline as a whole
(`build.repository`, `build.ci`, `build.runner`, path filters, test jobs) across the
environments that build the app.

## Why is this bad?
One repository has one pipeline file: kiln would have to pick one environment's
settings and silently ignore the other's.

## Example
```yaml
# dev.yaml
apps: {web: {build: {ci: github}}}
# prod.yaml
apps: {web: {build: {ci: gitlab}}}
```

## How to fix
Move the setting to the shared base, so every environment has the same value; only the
branch, build arguments and deploy settings differ per environment.
"#,
    };

    /// A build setting the app's CI system cannot express.
    PIPELINE_UNSUPPORTED = Check {
        code: "E0603",
        name: "pipeline-unsupported",
        kind: Kind::Error,
        summary: "A build setting the app's CI system cannot express.",
        fix: "use a setting the CI system supports (the message says which)",
        doc: r#"## What it does
Reports build settings that the chosen CI system cannot express: ignored paths on
GitLab (`rules:changes` cannot exclude), both `paths` and `pathsIgnore` on GitHub, a test
job whose name clashes with the jobs kiln names (`build-<env>`, `deploy-<env>`).

## Why is this bad?
kiln would write a pipeline that does something else than the model says, or one the
CI system refuses to run.

## Example
```yaml
apps:
  web:
    build: {ci: gitlab, pathsIgnore: [docs/]}
```

## How to fix
Use the filter the CI system has (`paths:` on GitLab), keep one of `paths` and
`pathsIgnore` on GitHub, or rename the test job.
"#,
    };

    /// Something a pipeline needs is missing from the model.
    PIPELINE_INCOMPLETE = Check {
        code: "E0604",
        name: "pipeline-incomplete",
        kind: Kind::Error,
        summary: "Something a pipeline needs is missing from the model, or cannot be written into it.",
        fix: "add what the message names to the app's `build` or `image`, or to `repository.ci`",
        doc: r#"## What it does
Reports what stops kiln from writing a working pipeline: an app with a build but no
`image.tagFormat`, a tag format with a part an image tag cannot hold, a push deploy
without `repository.ci` (the deploy records its tag there), a repository URL kiln cannot
push to over HTTPS, build argument or variable names that are not plain names, derived
job names over 63 characters, an app named `config` (the model repository's pipeline
uses `out/pipelines/config/`).

## Why is this bad?
The pipeline would fail on its first run, or tag images in a way Flux and the deploy
job cannot find again.

## Example
```yaml
apps:
  web:
    build: {repository: https://github.com/me/web, ci: github, branch: main}
    image: {registry: hub, repository: me/web}    # no tagFormat
```

## How to fix
Add what the message names: `image.tagFormat: "{branch}-{sha}-{timestamp}"`,
`repository.ci` for push deploys, a plain `[A-Za-z_][A-Za-z0-9_]*` name, a shorter app
name.
"#,
    };
}
