//! `kiln rules [NAME]` and `kiln explain CODE|NAME`: the check registry
//! ([`crate::diagnostic::checks`]), listed or explained.

use super::{Outcome, Printer};
use crate::catalogue::{self as checks, severity_word};
use crate::cli::{ExplainArgs, RulesArgs};

pub(super) fn run(args: &RulesArgs, out: &Printer) -> crate::Result<Outcome> {
    if let Some(wanted) = &args.rule {
        out.stdout(&checks::explain(lookup(wanted)?));
        return Ok(Outcome::Clean);
    }
    let families = checks::families();
    let shown: Vec<_> = match &args.family {
        None => families.iter().collect(),
        Some(id) => match families.iter().find(|f| f.id == id) {
            Some(f) => vec![f],
            None => {
                let ids: Vec<&str> = families.iter().map(|f| f.id).collect();
                return Err(crate::Error::Usage(format!(
                    "--family {id}: no such family; families: {}",
                    ids.join(", ")
                )));
            }
        },
    };
    let width = checks::all()
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (i, f) in shown.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!("{} ({})\n", f.title, f.id));
        for c in &f.checks {
            text.push_str(&format!(
                "{:5} {:width$}  {:7}  {}\n",
                c.code,
                c.name,
                severity_word(c.kind.severity()),
                c.summary
            ));
        }
    }
    text.push_str(
        "\nE: error in the input (exit 2), K: finding on the output (exit 1 when an error), W: warning.\n\
         `kiln explain NAME` explains one. Waive a lint rule for one app or registry with `waive: {NAME: \"why\"}`.\n",
    );
    out.stdout(&text);
    Ok(Outcome::Clean)
}

/// `kiln explain CODE|NAME`.
pub(super) fn explain(args: &ExplainArgs, out: &Printer) -> crate::Result<Outcome> {
    out.stdout(&checks::explain(lookup(&args.check)?));
    Ok(Outcome::Clean)
}

/// The check a code or name means, or a usage error that says what to do.
fn lookup(wanted: &str) -> crate::Result<&'static crate::diagnostic::Check> {
    checks::find(wanted).ok_or_else(|| {
        let hint = match checks::closest(wanted) {
            Some(c) => format!("did you mean `{}` ({})? ", c.name, c.code),
            None => String::new(),
        };
        crate::Error::Usage(format!(
            "no check is named `{wanted}`; {hint}`kiln rules` lists every code and name"
        ))
    })
}
