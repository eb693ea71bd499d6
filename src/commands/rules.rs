//! `kiln rules [NAME]`: the lint rule registry, listed or explained.

use super::{Outcome, Printer};
use crate::cli::RulesArgs;
use crate::inspect::lint::{RULES, severity_word};

pub(super) fn run(args: &RulesArgs, out: &Printer) -> crate::Result<Outcome> {
    match &args.rule {
        None => {
            let width = RULES.iter().map(|r| r.name().len()).max().unwrap_or(0);
            let mut text = String::new();
            for r in RULES {
                let summary = r
                    .doc()
                    .lines()
                    .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
                    .take_while(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let first = first_sentence(&summary);
                text.push_str(&format!(
                    "{}  {:width$}  {:7}  {first}.\n",
                    r.code(),
                    r.name(),
                    severity_word(r.severity())
                ));
            }
            text.push_str("\n`kiln rules NAME` explains one. Waive a rule for one app or registry with `waive: {NAME: \"why\"}`.\n");
            out.stdout(&text);
            Ok(Outcome::Clean)
        }
        Some(wanted) => match RULES
            .iter()
            .find(|r| r.name() == wanted || r.code().eq_ignore_ascii_case(wanted))
        {
            Some(r) => {
                out.stdout(&format!(
                    "{} {} ({} by default)\n\n{}",
                    r.code(),
                    r.name(),
                    severity_word(r.severity()),
                    r.doc()
                ));
                Ok(Outcome::Clean)
            }
            None => {
                let names: Vec<&str> = RULES.iter().map(|r| r.name()).collect();
                let codes = RULES.iter().map(|r| r.code());
                Err(crate::Error::Usage(format!(
                    "no rule `{wanted}`{} (rules: {})",
                    crate::suggest::hint(wanted, names.iter().copied().chain(codes)),
                    names.join(", ")
                )))
            }
        },
    }
}

/// The text up to the first `. ` outside backticks, without its full stop.
fn first_sentence(text: &str) -> &str {
    let mut in_code = false;
    for (i, c) in text.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '.' if !in_code && text[i + 1..].starts_with(' ') => return &text[..i],
            _ => {}
        }
    }
    text.trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_sentence_skips_full_stops_in_code() {
        assert_eq!(
            super::first_sentence("Flags `a . b` keys. More."),
            "Flags `a . b` keys"
        );
        assert_eq!(super::first_sentence("One sentence."), "One sentence");
    }
}
