//! The whole catalogue of checks: the registry's families
//! ([`crate::diagnostic::checks`]) and the lint rules ([`crate::inspect::lint::RULES`]),
//! for `kiln rules`, `kiln explain` and `docs/rules.md`.

use crate::diagnostic::checks;
use crate::diagnostic::{Check, Severity};

/// A group of related checks, as `kiln rules` and `docs/rules.md` list them.
pub struct Family {
    /// Short name, for `kiln rules --family`.
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// Its checks.
    pub checks: Vec<&'static Check>,
}

/// Every family, in the order the pipeline meets them.
pub fn families() -> Vec<Family> {
    let of = |list: &'static [Check]| list.iter().collect::<Vec<_>>();
    vec![
        Family {
            id: "files",
            title: "Reading the model",
            checks: of(checks::FILES),
        },
        Family {
            id: "model",
            title: "The model's meaning",
            checks: of(checks::MODEL),
        },
        Family {
            id: "secrets",
            title: "Secrets",
            checks: of(checks::SECRETS),
        },
        Family {
            id: "hosts",
            title: "Hosts",
            checks: of(checks::HOSTS),
        },
        Family {
            id: "pipelines",
            title: "Pipelines",
            checks: of(checks::PIPELINES),
        },
        Family {
            id: "lint",
            title: "Lint rules",
            checks: crate::inspect::lint::RULES
                .iter()
                .map(|r| r.entry())
                .collect(),
        },
        Family {
            id: "output",
            title: "The output",
            checks: of(checks::OUTPUT),
        },
    ]
}

/// Every check, family by family.
pub fn all() -> Vec<&'static Check> {
    families().into_iter().flat_map(|f| f.checks).collect()
}

/// The check with this code (in any case) or name.
pub fn find(code_or_name: &str) -> Option<&'static Check> {
    all()
        .into_iter()
        .find(|c| c.name == code_or_name || c.code.eq_ignore_ascii_case(code_or_name))
}

/// The check whose name (or code) is closest to `wanted`, when one is close enough to
/// be what was meant.
pub fn closest(wanted: &str) -> Option<&'static Check> {
    let all = all();
    let words = all.iter().flat_map(|c| [c.name, c.code]);
    let guess = crate::suggest::closest(wanted, words)?;
    find(guess)
}

/// The words for a severity: "error" or "warning".
pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// What `kiln explain` prints for one check.
pub fn explain(c: &Check) -> String {
    let mut out = format!(
        "{} {} ({})\n\n{}\n\n{}",
        c.code,
        c.name,
        c.kind.describe(),
        c.summary,
        c.doc
    );
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if is_lint(c) {
        out.push_str(&format!(
            "\nWaive it for one app or registry with a reason: `waive: {{{}: \"why\"}}`.\n",
            c.name
        ));
    }
    out
}

/// Whether `c` is a lint rule (which a waiver can name).
pub fn is_lint(c: &Check) -> bool {
    crate::inspect::lint::RULES
        .iter()
        .any(|r| r.code() == c.code)
}

/// The whole catalogue in Markdown: `docs/rules.md`.
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# Checks\n\n\
         Generated from kiln's check registry (`kiln rules` lists it, `kiln explain CODE` prints one entry); do not edit.\n\n\
         A code's letter says what kind of check it is:\n\n\
         - `E` and four digits: an error in the input (the model, a file kiln reads, the command line, a value `kiln seal` needs). Nothing is written; exit status 2.\n\
         - `K` and three digits: a finding on the output. `K0xx` are the lint rules, `K1xx` compare what a build would write with itself (wiring) and with `out/` (`kiln check`). Exit status 1 when it is an error.\n\
         - `W` and four digits: a warning. The command goes on.\n\n\
         The first two digits of an `E` or `W` code name its family: `00` reading the model and its meaning, `01` images, `02` secrets, `05` hosts, `06` pipelines.\n\n\
         Waive a lint rule for one app or registry with a reason: `waive: {rule-name: \"why\"}`.\n",
    );
    let families = families();
    for f in &families {
        out.push_str(&format!(
            "\n## {}\n\n| code | name | level | what it finds |\n|---|---|---|---|\n",
            f.title
        ));
        for c in &f.checks {
            out.push_str(&format!(
                "| {} | [`{}`](#{}) | {} | {} |\n",
                c.code,
                c.name,
                c.name,
                severity_word(c.kind.severity()),
                c.summary.replace('|', "\\|")
            ));
        }
    }
    for f in &families {
        for c in &f.checks {
            out.push_str(&format!(
                "\n### {}\n\n`{}`, {}. {}\n\n",
                c.name,
                c.code,
                c.kind.describe(),
                c.summary
            ));
            out.push_str(
                &c.doc
                    .replace("\n## ", "\n#### ")
                    .replacen("## ", "#### ", 1),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut digits = HashSet::new();
        let mut names = HashSet::new();
        let all = all();
        assert!(all.len() >= 50, "the registry has every check");
        for c in all {
            assert!(codes.insert(c.code), "duplicate code {}", c.code);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert!(
                c.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{} is not kebab-case",
                c.name
            );
            let (letter, number) = c.code.split_at(1);
            assert_eq!(
                letter.chars().next(),
                Some(c.kind.letter()),
                "{}: the letter of a {:?} is {}",
                c.code,
                c.kind,
                c.kind.letter()
            );
            let len = if letter == "K" { 3 } else { 4 };
            assert!(
                number.len() == len && number.bytes().all(|b| b.is_ascii_digit()),
                "{}: {letter} and {len} digits",
                c.code
            );
            if letter != "K" {
                assert!(
                    digits.insert(number),
                    "{}: another code has its digits",
                    c.code
                );
            }
        }
    }

    #[test]
    fn every_entry_has_a_summary_a_fix_and_the_doc_headings() {
        for c in all() {
            assert!(
                c.summary.ends_with('.') && !c.summary.contains('\n') && c.summary.len() < 120,
                "{}: the summary is one sentence on one line",
                c.name
            );
            assert!(
                !c.fix.is_empty() && !c.fix.contains('\n') && !c.fix.ends_with('.'),
                "{}: the fix hint is one line, without a full stop (it is shown as `help:`)",
                c.name
            );
            let headings: Vec<&str> = c.doc.lines().filter(|l| l.starts_with("## ")).collect();
            assert_eq!(
                headings,
                [
                    "## What it does",
                    "## Why is this bad?",
                    "## Example",
                    "## How to fix"
                ],
                "{}: the doc has the four headings, in order",
                c.name
            );
            for section in c.doc.split("## ").skip(1) {
                let body = section.split_once('\n').map_or("", |(_, b)| b);
                assert!(!body.trim().is_empty(), "{}: an empty section", c.name);
            }
        }
    }

    #[test]
    fn lookups_by_code_name_and_near_miss() {
        assert_eq!(find("E0005").map(|c| c.name), Some("schema"));
        assert_eq!(find("e0005").map(|c| c.name), Some("schema"));
        assert_eq!(find("unknown-field").map(|c| c.code), Some("E0006"));
        assert_eq!(find("K001").map(|c| c.name), Some("latest-image-tag"));
        assert_eq!(find("stale-output").map(|c| c.code), Some("K101"));
        assert!(find("no-such-check").is_none());
        assert_eq!(
            closest("unknwn-field").map(|c| c.name),
            Some("unknown-field")
        );
        assert_eq!(
            closest("missing-probe").map(|c| c.name),
            Some("missing-probes")
        );
        assert!(closest("zzzzzzzz").is_none());
    }
}
