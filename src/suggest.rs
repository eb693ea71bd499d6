//! "Did you mean": the one way kiln finds the name a typo meant, for every place a
//! name is looked up (model references, schema fields, rule names and waivers,
//! `--env`, `kiln diff`, `set-image`, `seal`).

/// The candidate closest to `wanted` when it is a likely typo of it: at most one edit
/// (insertion, deletion, substitution or swap of neighbours, case aside) per three
/// characters of the candidate, and at least one; the first in order on a tie.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&wanted, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// `did you mean `NAME`?` for the closest candidate, if any (a help line).
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(wanted, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `; did you mean `NAME`?`, or nothing: the end of a one-line message.
pub fn hint<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(wanted, candidates)
        .map(|s| format!("; {s}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name_and_strangers_find_none() {
        let names = ["dev", "prod", "staging", "replicas", "resources", "routes"];
        assert_eq!(closest("prdo", names), Some("prod"), "a swap is one edit");
        assert_eq!(closest("Prod", names), Some("prod"), "case aside");
        assert_eq!(closest("replica", names), Some("replicas"));
        assert_eq!(closest("stagign", names), Some("staging"));
        assert_eq!(closest("cache", names), None);
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("de", names), Some("dev"));
        assert_eq!(closest("anything", []), None);
        assert_eq!(
            hint("prdo", names),
            "; did you mean `prod`?",
            "hint ends a message"
        );
        assert_eq!(hint("cache", names), "");
    }
}
