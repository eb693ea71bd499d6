//! The command line: exit codes, what `check` reports, `--env`, `--format json`.

use crate::support::{kiln, reference_project, snapshot, write_env};

#[test]
fn check_is_clean_after_build_and_names_every_hand_edited_file() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    assert_eq!(kiln(root, &["check"]).code, 0);
    let files: Vec<String> = snapshot(&root.join("out"))
        .into_keys()
        .filter(|p| p != "kiln.lock")
        .collect();
    assert!(files.len() > 10);
    for rel in &files {
        let path = root.join("out").join(rel);
        let original = std::fs::read(&path).unwrap();
        let mut edited = original.clone();
        edited.extend_from_slice(b"# edited by hand\n");
        std::fs::write(&path, &edited).unwrap();
        let run = kiln(root, &["check"]);
        assert_eq!(run.code, 1, "editing {rel}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("out/{rel} was edited by hand")),
            "editing {rel} was not reported as hand-edited:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("+# edited by hand") || run.stderr.contains("-# edited by hand"),
            "no diff shown:\n{}",
            run.stderr
        );
        std::fs::write(&path, &original).unwrap();
    }
    assert_eq!(kiln(root, &["check"]).code, 0);
}

#[test]
fn check_reports_missing_stale_and_foreign_files_with_what_to_do() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build"]).code, 0);
    let ns = "out/kubernetes/clusters/homelab/namespaces/namespace-invoicetron-dev.yaml";
    std::fs::remove_file(root.join(ns)).unwrap();
    let run = kiln(root, &["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "{ns} is missing: kiln wrote it, and it was deleted since"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("run `kiln build`"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("(1 missing)\n  next: run `kiln build` and commit out/"),
        "{}",
        run.stderr
    );
    assert_eq!(kiln(root, &["build"]).code, 0);

    // A model change makes generated files stale.
    let prod = root.join("environments/prod.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(&prod, text.replace("retentionDays: 7", "retentionDays: 14")).unwrap();
    let run = kiln(root, &["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cronjob-invoicetron-db-backup.yaml is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("-mmin +20160"),
        "diff of the change is shown:\n{}",
        run.stderr
    );
    std::fs::write(&prod, text).unwrap();

    // A file kiln did not write, where kiln writes (identical content would be adopted).
    std::fs::write(root.join(ns), "# someone else's namespace\n").unwrap();
    let lock = root.join("out/kiln.lock");
    let lock_text = std::fs::read_to_string(&lock).unwrap();
    let kept: String = lock_text
        .lines()
        .filter(|l| !l.contains(ns.trim_start_matches("out/")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&lock, kept).unwrap();
    let run = kiln(root, &["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("was not written by kiln"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("-# someone else's namespace")
            && run.stderr.contains("+kind: Namespace"),
        "the foreign file is shown against what kiln would write:\n{}",
        run.stderr
    );
    let before = snapshot(&root.join("out"));
    let run = kiln(root, &["build"]);
    assert_eq!(run.code, 2, "build must refuse to overwrite a foreign file");
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(before, snapshot(&root.join("out")));
    assert_eq!(kiln(root, &["build", "--force"]).code, 0);
    assert_eq!(kiln(root, &["check"]).code, 0);
}

#[test]
fn env_option_limits_what_is_written_and_checked() {
    let project = reference_project();
    let root = project.path();
    assert_eq!(kiln(root, &["build", "--env", "prod"]).code, 0);
    let files = snapshot(&root.join("out"));
    assert!(files.keys().any(|p| p.contains("/overlays/prod/")));
    assert!(
        !files.keys().any(|p| p.contains("/overlays/dev/")),
        "dev files written with --env prod"
    );
    assert_eq!(kiln(root, &["check", "--env", "prod"]).code, 0);
    assert_eq!(kiln(root, &["check"]).code, 1, "dev files are missing");
    let run = kiln(root, &["check", "--env", "staging"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no such environment"), "{}", run.stderr);
}

/// A name given on the command line that is a typo of a known one is answered with
/// that name: `--env`, `kiln diff`'s environments, `set-image`'s app, `kiln rules`
/// (names and codes) and `kiln seal`'s secrets.
#[test]
fn mistyped_names_on_the_command_line_get_did_you_mean() {
    let project = reference_project();
    let root = project.path();
    let cases: [(&[&str], &str); 7] = [
        (
            &["check", "--env", "prdo"],
            "--env prdo: no such environment; did you mean `prod`? (environments: dev, prod)",
        ),
        (
            &["diff", "dev", "Prod"],
            "no environment `Prod`; did you mean `prod`? (environments: dev, prod)",
        ),
        (
            &["set-image", "invoicetrn", "v1", "--env", "prod"],
            "no app `invoicetrn` in prod; did you mean `invoicetron`? (apps: backend, frontend, invoicetron)",
        ),
        (
            &["set-image", "invoicetron", "v1", "--env", "dve"],
            "--env dve: no such environment; did you mean `dev`?",
        ),
        (
            &["rules", "latest-image-tags"],
            "no check is named `latest-image-tags`; did you mean `latest-image-tag` (K001)?",
        ),
        (
            &["rules", "K01"],
            "no check is named `K01`; did you mean `latest-image-tag` (K001)?",
        ),
        (
            &["seal", "--cert", "cert.pem", "vm-ssh-kye"],
            "no secret is named `vm-ssh-kye`; did you mean `vm-ssh-key`? (secrets:",
        ),
    ];
    for (args, wanted) in cases {
        let run = kiln(root, args);
        assert_eq!(run.code, 2, "kiln {args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(wanted),
            "kiln {args:?}:\n{}",
            run.stderr
        );
    }
    // A name like none of them gets no guess.
    let run = kiln(root, &["check", "--env", "staging"]);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

#[test]
fn json_format_prints_one_located_object_per_diagnostic_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    write_env(
        tmp.path(),
        "dev.yaml",
        "environment:\n  runsOn: nowhere\nbogus: 1\n",
    );
    let run = kiln(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 2);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for d in &lines {
        assert_eq!(d["severity"], "error");
        assert_eq!(d["file"], "environments/dev.yaml");
        assert!(d["line"].as_u64().unwrap() >= 1);
    }
    assert!(lines.iter().any(|d| d["name"] == "unknown-field"));
}

#[test]
fn help_explains_with_examples_and_bad_usage_exits_2() {
    use clap::CommandFactory;
    let tmp = tempfile::tempdir().unwrap();
    let run = kiln(tmp.path(), &["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Exit status"), "{}", run.stdout);
    // Every subcommand, as the command line defines them: a new one without an
    // example fails here.
    let commands: Vec<String> = kiln::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(commands.len() >= 5, "{commands:?}");
    for cmd in &commands {
        let run = kiln(tmp.path(), &[cmd, "--help"]);
        assert_eq!(run.code, 0, "{cmd}");
        assert!(
            run.stdout.contains("Example"),
            "`kiln {cmd} --help` has no example"
        );
        let example = format!("  kiln {cmd}");
        assert!(
            run.stdout.contains(&example),
            "`kiln {cmd} --help` has no example of `kiln {cmd}`"
        );
    }
    assert_eq!(kiln(tmp.path(), &["build", "--no-such-flag"]).code, 2);
    assert_eq!(kiln(tmp.path(), &["frobnicate"]).code, 2);
}

#[test]
fn completions_know_every_command_and_bash_parses_them() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = kiln(tmp.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in ["diff", "check", "against", "unified", "completions"] {
            assert!(run.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let script = tmp.path().join("kiln.bash");
    std::fs::write(&script, kiln(tmp.path(), &["completions", "bash"]).stdout).unwrap();
    // Load it and ask for completions after `kiln d`, as bash would on <TAB>.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(kiln d); COMP_CWORD=1; COMP_LINE='kiln d'; COMP_POINT=6; _kiln kiln d kiln; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        words.lines().any(|w| w == "diff"),
        "bash completes `kiln d` to: {words}"
    );
    assert_eq!(kiln(tmp.path(), &["completions", "tcsh"]).code, 2);
}

#[test]
fn targets_lists_the_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kiln(tmp.path(), &["targets"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("kubernetes  out/kubernetes/"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_environments_directory_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kiln(tmp.path(), &["build"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--root"), "{}", run.stderr);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn graph_prints_the_environment_in_mermaid_dot_and_json() {
    let project = reference_project();
    let root = project.path();
    let run = kiln(root, &["graph", "--env", "prod"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("flowchart LR\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("subgraph cluster_pi[\"cluster pi\"]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("tunnel_homelab --> app_invoicetron"),
        "{}",
        run.stdout
    );
    let run = kiln(root, &["graph", "--env", "prod", "--format", "dot"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("digraph environment {"),
        "{}",
        run.stdout
    );
    let run = kiln(root, &["graph", "--format", "json"]);
    assert_eq!(run.code, 0);
    let envs: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(envs.len(), 2);
    let run = kiln(root, &["diff", "dev", "prod", "--format", "dot"]);
    assert_eq!(run.code, 2, "dot is for graph only");
}
