//! The command line: clap types only. Behaviour lives in `commands`.

use crate::diagnostic::render::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str =
    "Compile one typed environment model into Kubernetes, Flux, compose, Caddy and CI files";

const LONG_ABOUT: &str = "\
kiln reads the environment model in DIR/environments/*.yaml (a shared base plus one file
per environment, e.g. dev.yaml and prod.yaml), checks it, and compiles it into DIR/out/:
Kustomize bases and overlays, Flux trees with image automation, SealedSecrets (values
sealed by `kiln seal`), docker compose projects with Caddy for plain hosts, CI pipelines
and a runbook per environment. The output is meant to be committed; `kiln check` keeps
it honest in pre-commit and CI, and `kiln diff` shows what differs between environments
or what a change does before it is merged.";

const AFTER_HELP: &str = "\
Exit status:
  0  clean
  1  findings: check found a stale, missing, hand-edited or foreign file, a lint rule
     fired, or diff found differences
  2  the model is invalid, or the command line is wrong

Examples:
  kiln build                    compile environments/ into out/
  kiln check                    fail if out/ is not what `kiln build` would write
  kiln build --env prod         write only prod's files (and shared bases)
  kiln seal --cert cert.pem     seal new secret values for the cluster's controller
  kiln check --format json      one JSON object per diagnostic, on stdout
  kiln diff dev prod            what prod gets that dev does not, field by field
  kiln diff --against main      what this branch changes in the rendered output
  kiln set-image web v1.4.2 --env prod   record a pushed tag and rebuild";

/// The kiln command line.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project root: the model is DIR/environments, output goes to DIR/out.
    #[arg(long, value_name = "DIR", default_value = ".", global = true)]
    pub root: PathBuf,
    /// Limit output to these environments (repeatable). Every environment is still
    /// loaded and checked, because bases are shared.
    #[arg(long = "env", value_name = "NAME", global = true)]
    pub envs: Vec<String>,
    /// Output format: `human` (diagnostics on stderr), `json` (diagnostics as JSON
    /// lines on stdout; `diff` prints one JSON document), or `markdown` (for merge
    /// request comments: `diff` prints a comment body, diagnostics a fenced block).
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
    /// When to use colour in human output (auto: when the output is a terminal and
    /// NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t, global = true)]
    pub color: ColorChoice,
    /// Print only diagnostics, no summary.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// When to colour output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When the output is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the model and write out/ (nothing is written if there is any error).
    #[command(after_help = "\
Exit status: 0 written, 1 a lint rule failed (nothing written), 2 the model is invalid.

Examples:
  kiln build                      compile environments/ into out/
  kiln build --root path/to/repo  the model in path/to/repo/environments
  kiln build --env prod           write only prod's files and the shared bases")]
    Build(BuildArgs),
    /// Check the model and compare out/ with what a build would write; writes nothing.
    #[command(after_help = "\
For every file that differs it says why and what to do: stale (run `kiln build`),
hand-edited (change the model instead; the diff shows what kiln would write), missing,
obsolete (a build deletes it), or foreign (a file kiln did not write, where it writes).

Exit status: 0 out/ is current, 1 a file differs or a lint rule failed, 2 the model is
invalid.

Examples (pre-commit or CI):
  kiln check
  kiln check --env prod --format json")]
    Check(CheckArgs),
    /// Show what differs between two environments, or what a change does to the output.
    #[command(after_help = "\
Two environments are matched resource by resource (kind, namespace, name) after the
environment's part is rewritten as the model defines it: its name as ${env}, its domain
as ${domain}, its namespaces by the `environment.namespaces` pattern. Only what is left
is shown. Secret values never appear; a sealed value shows as changed or not.

--against REF renders the model as it is at a git revision (read from git, the working
tree is not touched) and as it is now, and shows the changes per environment.

Exit status: 0 no difference, 1 differences, 2 error.

Examples:
  kiln diff dev prod
  kiln diff dev prod --unified             add a unified diff of each changed resource
  kiln diff --against main                 what this branch changes, per environment
  kiln diff --against HEAD~1 prod          only prod
  kiln diff --against origin/main --format markdown > comment.md")]
    Diff(DiffArgs),
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  kiln completions bash > ~/.local/share/bash-completion/completions/kiln
  kiln completions zsh > ~/.zfunc/_kiln        # with fpath+=~/.zfunc in ~/.zshrc
  kiln completions fish > ~/.config/fish/completions/kiln.fish")]
    Completions(CompletionsArgs),
    /// Seal secret values for the Sealed Secrets controller into environments/sealed/.
    #[command(after_help = SEAL_HELP)]
    Seal(SealArgs),
    /// Print the diagram of an environment: clusters, namespaces, apps, databases,
    /// hosts, routes, the tunnel and registries.
    ///
    /// `--format mermaid` (the default) prints a Mermaid flowchart, as in the runbook;
    /// `--format dot` prints Graphviz DOT; `--format json` the nodes and edges.
    #[command(
        after_help = "Examples:\n  kiln graph --env prod > prod.mmd\n  kiln graph --env prod --format dot | dot -Tsvg > prod.svg"
    )]
    Graph,
    /// List the targets kiln compiles.
    #[command(after_help = "Example:\n  kiln targets")]
    Targets,
    /// List every check kiln runs (errors, lint rules, output checks, warnings), or
    /// explain one.
    ///
    /// Codes: `E` an error in the input (exit 2), `K` a finding on the output (lint
    /// rules `K0xx`, exit 1 when an error), `W` a warning.
    #[command(
        after_help = "Examples:\n  kiln rules                         every check: code, name, level, what it finds\n  kiln rules --family lint           the lint rules (which a waiver can name)\n  kiln rules postgres-data-mount     what it checks, why, an example, how to fix"
    )]
    Rules(RulesArgs),
    /// Explain a check: what it does, why it matters, an example and how to fix it.
    #[command(
        after_help = "Examples:\n  kiln explain E0006\n  kiln explain unknown-field\n  kiln explain K001"
    )]
    Explain(ExplainArgs),
    /// Record the image tag a pipeline deployed, then build.
    ///
    /// For apps with `image.automation: push`: the tag is written to
    /// environments/state/image-tags.yaml and out/ is rebuilt, so the committed output
    /// says what runs and no later build reverts it. Requires --env.
    #[command(
        name = "set-image",
        after_help = "Example (in a deploy job, after `kubectl set image`):\n  kiln set-image invoicetron prod-3f9c2a1-20260207143000 --env prod\n  git commit -am \"invoicetron: deploy prod-3f9c2a1\" && git push"
    )]
    SetImage(SetImageArgs),
}

/// Options of `kiln rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A check's name or code to explain (as `kiln explain` does).
    pub rule: Option<String>,
    /// List only one family of checks (`lint`: the lint rules; `kiln rules` shows
    /// each family's name in brackets).
    #[arg(long, value_name = "FAMILY")]
    pub family: Option<String>,
}

/// Options of `kiln explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The check's code (`E0006`, `K001`) or name (`unknown-field`), as a diagnostic
    /// shows it.
    pub check: String,
}

/// Options of `kiln set-image`.
#[derive(Debug, Args)]
pub struct SetImageArgs {
    /// The app whose tag was deployed.
    pub app: String,
    /// The tag now running.
    pub tag: String,
}

const SEAL_HELP: &str = "\
Each value comes from where the model says: `op read` for 1Password references (sign in
first: eval \"$(op signin)\"), a CSPRNG for generated keys, other keys for templates, and
for hand-entered keys the variable KILN_<SECRET>_<KEY> (e.g. KILN_GITLAB_REGISTRY_USERNAME)
or standard input. Only values that are new, whose definition changed, or that --rotate
names are sealed; the rest stay byte for byte. Nothing is written unless every value
could be sealed, and no plaintext is ever written.

Exit status: 0 sealed (or nothing to do), 2 invalid model, bad certificate or a value
that could not be obtained.

Examples:
  kubeseal --fetch-cert > cert.pem
  kiln seal --cert cert.pem                      seal what is new, in every environment
  kiln seal --cert cert.pem --env prod           only prod
  kiln seal --cert cert.pem --rotate gitlab-registry   after rotating the token in 1Password
  kiln seal --cert homelab=a.pem --cert pi=b.pem one certificate per cluster
  KILN_GITLAB_REGISTRY_USERNAME=gitlab+deploy-token-1 kiln seal --cert cert.pem
Then run `kiln build` and commit environments/sealed/ together with out/.";

/// Options of `kiln seal`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// The controller's certificate (`kubeseal --fetch-cert`): PATH for every cluster,
    /// or CLUSTER=PATH for one (repeatable).
    #[arg(long, value_name = "[CLUSTER=]PATH", required = true)]
    pub cert: Vec<String>,
    /// Seal again even what is current: 1Password and hand-entered values are read
    /// again, generated ones are generated anew.
    #[arg(long)]
    pub rotate: bool,
    /// Only these secrets (default: every secret placed on a cluster).
    #[arg(value_name = "SECRET")]
    pub secrets: Vec<String>,
}

/// Options of `kiln build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Overwrite files under out/ that kiln did not write (normally an error).
    #[arg(long)]
    pub force: bool,
    /// Flush everything written to disk before writing out/kiln.lock, so that what the
    /// lock lists survives a power loss. Without it, writes are atomic (a killed build
    /// leaves every file old or new) but not flushed.
    #[arg(long)]
    pub fsync: bool,
    /// Compile and compare every file even when the freshness record (.kiln/fresh,
    /// written after a clean build) shows that neither the model nor out/ changed.
    /// The record is still written afresh.
    #[arg(long)]
    pub no_cache: bool,
}

/// Options of `kiln check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Compile and compare every file even when the freshness record (.kiln/fresh,
    /// written after a clean build) shows that neither the model nor out/ changed.
    #[arg(long)]
    pub no_cache: bool,
}

/// Options of `kiln diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Two environments to compare (A, then B). With --against: the environments to
    /// show (default: every one).
    #[arg(value_name = "ENV")]
    pub environments: Vec<String>,
    /// Compare the model at this git revision (a branch, tag, commit, HEAD~1) with the
    /// working tree.
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
    /// Add a unified diff of each changed resource.
    #[arg(long, short = 'u')]
    pub unified: bool,
}

/// Options of `kiln completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
