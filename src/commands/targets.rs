//! `kiln targets`: the target registry, one line each.

use super::{Outcome, Printer};
use crate::render::TARGETS;

pub(super) fn run(out: &Printer) -> crate::Result<Outcome> {
    let width = TARGETS.iter().map(|t| t.id().len()).max().unwrap_or(0);
    let mut text = String::new();
    for t in TARGETS {
        text.push_str(&format!(
            "{:width$}  out/{}/  {}\n",
            t.id(),
            t.id(),
            t.description()
        ));
    }
    out.stdout(&text);
    Ok(Outcome::Clean)
}
