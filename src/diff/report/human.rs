//! The report for a person in a terminal, coloured when asked.

use super::{Report, groups, multiline, rules_line};
use crate::diff::{Change, Shown, Status};
use anstyle::{AnsiColor, Style};
use serde_json::Value;
use std::fmt::Write;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
    fn fg(&self, c: AnsiColor, text: &str) -> String {
        self.paint(Style::new().fg_color(Some(c.into())), text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }
}

fn marker(status: Status) -> (&'static str, AnsiColor) {
    match status {
        Status::OnlyA => ("-", AnsiColor::Red),
        Status::OnlyB => ("+", AnsiColor::Green),
        Status::Changed => ("~", AnsiColor::Yellow),
    }
}

/// Compact one-line form of a value.
fn compact(v: Option<&Shown>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(Shown::Secret) => "(secret)".to_owned(),
        Some(Shown::Value(v)) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// The report for a terminal; colours only when `color`.
pub fn human(report: &Report, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    let total = report.total();
    let _ = write!(out, "{}: ", p.bold(&report.headline()));
    if report.has_differences() {
        out.push_str(&report.counts(&total));
    } else {
        let _ = write!(out, "no differences ({} identical)", total.identical);
    }
    out.push('\n');
    if let Some(rules) = rules_line(&report.normalized) {
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!("rewritten before comparing: {rules}"))
        );
    }
    let (a, b) = report.sides();
    let width = a.len().max(b.len()) + 1;
    for section in &report.sections {
        let indent = if section.env.is_some() || section.shared {
            "  "
        } else {
            ""
        };
        if let Some(title) = report.section_title(section) {
            let c = &section.comparison;
            let counts = if c.is_empty() {
                "no differences".to_owned()
            } else {
                report.counts(c)
            };
            let _ = write!(out, "\n{}: {counts}\n", p.bold(&title));
        }
        for (group, items) in groups(&section.comparison.resources) {
            let _ = writeln!(out, "\n{indent}{}", p.bold(&group));
            for r in items {
                let (sign, colour) = marker(r.status);
                let _ = write!(out, "{indent}  {} {}", p.fg(colour, sign), r.id.title());
                if r.status != Status::Changed {
                    let _ = write!(
                        out,
                        "  {}",
                        p.dim(&format!("({})", report.status_word(r.status)))
                    );
                }
                out.push('\n');
                for change in &r.changes {
                    human_change(&mut out, &p, change, indent, (&a, &b), width);
                }
                if let Some(u) = &r.unified {
                    for line in u.lines() {
                        let styled = match line.chars().next() {
                            Some('+') if !line.starts_with("+++") => p.fg(AnsiColor::Green, line),
                            Some('-') if !line.starts_with("---") => p.fg(AnsiColor::Red, line),
                            Some('@') => p.fg(AnsiColor::Cyan, line),
                            _ => line.to_owned(),
                        };
                        let _ = writeln!(out, "{indent}      {styled}");
                    }
                }
            }
        }
    }
    out
}

fn human_change(
    out: &mut String,
    p: &Paint,
    c: &Change,
    indent: &str,
    (a, b): (&str, &str),
    width: usize,
) {
    let pad = format!("{indent}      ");
    if multiline(c.a.as_ref()).is_some() || multiline(c.b.as_ref()).is_some() {
        let _ = writeln!(out, "{pad}{}", p.fg(AnsiColor::Cyan, &c.path));
        let text = |v: Option<&Shown>| match v {
            Some(Shown::Value(Value::String(s))) => s.clone(),
            None => String::new(),
            other => format!("{}\n", compact(other)),
        };
        for (v, sign, colour) in [
            (c.a.as_ref(), '-', AnsiColor::Red),
            (c.b.as_ref(), '+', AnsiColor::Green),
        ] {
            for line in text(v).lines() {
                let _ = writeln!(out, "{pad}  {}", p.fg(colour, &format!("{sign} {line}")));
            }
        }
        return;
    }
    if c.a == Some(Shown::Secret) && c.b == Some(Shown::Secret) {
        let _ = writeln!(
            out,
            "{pad}{}: {}",
            p.fg(AnsiColor::Cyan, &c.path),
            p.dim("secret value changed (not shown)")
        );
        return;
    }
    let (x, y) = (compact(c.a.as_ref()), compact(c.b.as_ref()));
    if c.path.len() + x.len() + y.len() <= 90 {
        let _ = writeln!(
            out,
            "{pad}{}: {} → {}",
            p.fg(AnsiColor::Cyan, &c.path),
            p.fg(AnsiColor::Red, &x),
            p.fg(AnsiColor::Green, &y)
        );
    } else {
        let _ = writeln!(out, "{pad}{}", p.fg(AnsiColor::Cyan, &c.path));
        for (side, v, colour) in [(a, &x, AnsiColor::Red), (b, &y, AnsiColor::Green)] {
            let _ = writeln!(
                out,
                "{pad}  {:width$} {}",
                format!("{side}:"),
                p.fg(colour, v)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{changed, report};
    use super::*;
    use serde_json::json;

    /// Each form of a changed field, without colour: short on one line, long on one
    /// line a side, text as lines, secrets unnamed.
    #[test]
    fn changed_fields_are_pinned() {
        let mut r = changed(1);
        let long = "x".repeat(90);
        r.changes.extend([
            Change {
                path: "data.long".into(),
                a: Some(Shown::Value(json!(long))),
                b: None,
            },
            Change {
                path: "data.text".into(),
                a: Some(Shown::Value(json!("one\ntwo\n"))),
                b: Some(Shown::Value(json!(3))),
            },
            Change {
                path: "data.password".into(),
                a: Some(Shown::Secret),
                b: Some(Shown::Secret),
            },
        ]);
        let text = human(&report(vec![r]), false);
        let want = format!(
            "\
kiln diff dev prod: 1 changed, 7 identical

kubernetes · lab
  ~ Deployment shop-${{env}}/app0001
      spec.replicas: 1 → 2
      data.long
        dev:  \"{long}\"
        prod: (absent)
      data.text
        - one
        - two
        + 3
      data.password: secret value changed (not shown)
"
        );
        assert_eq!(text, want);
    }
}
