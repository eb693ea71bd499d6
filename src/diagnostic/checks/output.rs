//! The output: what a build would write checked against itself (wiring) and against
//! `out/` (`kiln check`).

use super::{Check, Kind, Severity};

family! {
    OUTPUT;

    /// A file under `out/` differs from what a build would write.
    STALE_OUTPUT = Check {
        code: "K101",
        name: "stale-output",
        kind: Kind::Finding(Severity::Error),
        summary: "A file under `out/` is not what a build of the model would write now.",
        fix: "run `kiln build` and commit out/",
        doc: r#"## What it does
`kiln check` compares every file a build would write with `out/`: a file the model
changed since the last build, a file the model no longer generates, and the traces of
a build that did not finish.

## Why is this bad?
`out/` is what is deployed (Flux reads it, hosts run its scripts): a model change that
was not built is not deployed, and review shows a model that does not match what runs.

## Example
```sh
$EDITOR environments/prod.yaml     # replicas: 3
git commit -am "prod: 3 replicas"  # without kiln build
kiln check                         # out/kubernetes/.../deployment-web.yaml is stale
```

## How to fix
Run `kiln build` and commit `out/` with the model change (the pre-commit hook
`kiln-build` does it on every commit).
"#,
    };

    /// A file under `out/` was edited by hand since kiln wrote it.
    HAND_EDITED = Check {
        code: "K102",
        name: "hand-edited",
        kind: Kind::Finding(Severity::Error),
        summary: "A file under `out/` was edited by hand since kiln wrote it.",
        fix: "make the change in environments/ instead, then run `kiln build` (which overwrites the edit)",
        doc: r#"## What it does
`kiln check` compares each file with the hash `out/kiln.lock` recorded when kiln wrote
it, and reports a file changed since, with the edit against what kiln would write.

## Why is this bad?
The next build overwrites the edit: a hotfix made in `out/` disappears on the next
unrelated change.

## Example
```sh
sed -i 's/replicas: 2/replicas: 4/' out/kubernetes/apps/web/overlays/prod/patch.yaml
kiln check                       # hand-edited
```

## How to fix
Carry the change over into the model (`replicas: 4` in `environments/prod.yaml`), or a
template override under `templates/`, and run `kiln build`.
"#,
    };

    /// A file kiln would write is missing from `out/`.
    MISSING_OUTPUT = Check {
        code: "K103",
        name: "missing-output",
        kind: Kind::Finding(Severity::Error),
        summary: "A file a build writes is missing from `out/`.",
        fix: "run `kiln build` to write it (to stop generating it, change the model)",
        doc: r#"## What it does
`kiln check` reports a file a build would write that `out/` lacks: deleted since kiln
wrote it, or new because the model now generates it.

## Why is this bad?
What is deployed lacks an object or script the model describes: a new app's manifests,
or a file someone deleted to "turn something off" while the model still has it.

## Example
```sh
rm out/hosts/vm/backup.sh
kiln check                       # missing-output
```

## How to fix
Run `kiln build` and commit `out/`. To stop generating a file, change the model (for
example remove the database's `backup`), not `out/`.
"#,
    };

    /// A file under `out/` that kiln did not write sits where kiln writes.
    UNEXPECTED_OUTPUT = Check {
        code: "K104",
        name: "unexpected-output",
        kind: Kind::Finding(Severity::Error),
        summary: "A file kiln did not write sits where a build writes a file.",
        fix: "move the file out of the way, or run `kiln build --force` to replace it",
        doc: r#"## What it does
`kiln check` reports a file in `out/` that `out/kiln.lock` does not list but a build
would write: a file added by hand, or an `out/` whose lock was lost.

## Why is this bad?
`kiln build` refuses to overwrite a file it did not write (it may be someone's work),
so the build stops until the file is dealt with.

## Example
```sh
cp my-deployment.yaml out/kubernetes/apps/web/base/deployment-web.yaml
kiln check                       # unexpected-output
```

## How to fix
Move the file elsewhere (and put what it holds into the model), or, if it is kiln's own
output whose lock was lost, run `kiln build --force` to rewrite it and the lock.
"#,
    };

    /// A broken wiring point.
    BROKEN_WIRE = Check {
        code: "K105",
        name: "broken-wire",
        kind: Kind::Finding(Severity::Error),
        summary: "A reference between generated objects that does not hold (route, Service, port, secret, policy, path).",
        fix: "fix or delete the template override that broke the reference; with none, report it with the model (a kiln defect)",
        doc: r#"## What it does
Follows every reference that crosses objects or targets in what a build would write:
route → Service → port, every secret a pod reads (variables, `envFrom`, volumes, image
pull secrets) → that key in the pod's namespace, network policy → namespace and port,
Flux Kustomization → path, ImagePolicy → ImageRepository, deploy steps → Role verbs,
Caddy route → published port, and more. `kiln check` ends with `wiring: N/N points
verified`.

## Why is this bad?
A reference that points at nothing deploys and then fails at run time: a route that
answers 503, a pod that waits for a database port nobody listens on.

## Example
A template override of `templates/hosts/Caddyfile` that proxies to port 3000 while the
app publishes 8080.

## How to fix
kiln writes both ends from one model, so a broken point comes from a template override
under `templates/` or from a renderer: correct the override (or delete it to use kiln's
default); if there is none, report it with the model.
"#,
    };
}
