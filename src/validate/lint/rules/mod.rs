//! The rule registry. Adding a rule: a new file here, one line in [`RULES`], a
//! fixture pair in `tests/lint/`.

use super::Rule;

mod missing_pull_secret;
mod orphan_object;

/// Every lint rule.
pub static RULES: &[&dyn Rule] = &[
    &missing_pull_secret::MissingPullSecret,
    &orphan_object::OrphanObject,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_kebab_case_and_documented() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in RULES {
            assert!(codes.insert(r.code()), "duplicate code {}", r.code());
            assert!(names.insert(r.name()), "duplicate name {}", r.name());
            assert!(
                r.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.name()
            );
            for heading in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(r.doc().contains(heading), "{} lacks {heading}", r.name());
            }
        }
    }
}
