//! Image tag formats (`image.tagFormat`, e.g. `main-{sha}-{timestamp}`): one parse for
//! everything derived from them, so they agree by construction: the Flux ImagePolicy
//! (the `flux` target, `kiln set-image`), the CI step that computes tags (the
//! `pipelines` target) and the checks of both (lint, wiring).

/// A Flux ImagePolicy derived from a tag format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPolicy {
    /// The anchored RE2 pattern tags must match.
    pub pattern: String,
    /// The capture group that orders tags (`$ts` or `$run`).
    pub extract: String,
}

/// One piece of an image tag format (`image.tagFormat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPart {
    /// Text copied as is.
    Literal(String),
    /// `{sha}`: the commit, 7 lowercase hex digits.
    Sha,
    /// `{timestamp}`: the build time, UTC `YYYYMMDDhhmmss`.
    Timestamp,
    /// `{run}`: the CI run number.
    Run,
}

/// Splits a tag format such as `main-{sha}-{timestamp}` into its pieces. Both the
/// Flux ImagePolicy ([`tag_policy`]) and the CI step that computes tags (the
/// `pipelines` target) are derived from this, so they agree by construction.
pub fn tag_parts(format: &str) -> Result<Vec<TagPart>, String> {
    let mut parts = Vec::new();
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{format}`"))?;
            parts.push(match &after[..end] {
                "sha" => TagPart::Sha,
                "timestamp" => TagPart::Timestamp,
                "run" => TagPart::Run,
                other => {
                    return Err(format!(
                        "`{{{other}}}` is not a tag placeholder (use {{sha}}, {{timestamp}}, {{run}})"
                    ));
                }
            });
            rest = &after[end + 1..];
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            match parts.last_mut() {
                Some(TagPart::Literal(text)) => text.push_str(&rest[..end]),
                _ => parts.push(TagPart::Literal(rest[..end].to_owned())),
            }
            rest = &rest[end..];
        }
    }
    Ok(parts)
}

/// Derives the ImagePolicy pattern and sort key from a tag format such as
/// `main-{sha}-{timestamp}`. Fails when nothing in the format orders tags.
pub fn tag_policy(format: &str) -> Result<TagPolicy, String> {
    let mut pattern = String::from("^");
    let mut extract = None;
    for part in tag_parts(format)? {
        match part {
            TagPart::Sha => pattern.push_str("[a-f0-9]{7,40}"),
            TagPart::Timestamp => {
                pattern.push_str("(?P<ts>[0-9]{14})");
                extract.get_or_insert("$ts");
            }
            TagPart::Run => {
                pattern.push_str("(?P<run>[0-9]+)");
                extract.get_or_insert("$run");
            }
            TagPart::Literal(text) => {
                for c in text.chars() {
                    if r".+*?()|[]{}^$\".contains(c) {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
            }
        }
    }
    pattern.push('$');
    let extract = extract.ok_or_else(|| {
        format!("`{format}` has no {{timestamp}} or {{run}}: Flux cannot tell which tag is newest")
    })?;
    Ok(TagPolicy {
        pattern,
        extract: extract.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn policy_matches_tags_of_its_format_and_rejects_near_misses() {
        let p = tag_policy("main-{sha}-{timestamp}").unwrap();
        assert_eq!(p.pattern, r"^main-[a-f0-9]{7,40}-(?P<ts>[0-9]{14})$");
        assert_eq!(
            tag_policy("v1.{run}").unwrap().pattern,
            r"^v1\.(?P<run>[0-9]+)$"
        );
        assert_eq!(p.extract, "$ts");
        let re = Regex::new(&p.pattern).unwrap();
        for ok in [
            "main-3f9c2a1-20260207143000",
            "main-3f9c2a1d4e5f60718293a4b5c6d7e8f901234567-20260207143000",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in [
            "develop-3f9c2a1-20260207143000",
            "main-3F9C2A1-20260207143000",
            "main-3f9c2a1-2026020714300",
            "main-3f9c2a1-20260207143000-dirty",
            "main-3f9c2a-20260207143000",
            "latest",
        ] {
            assert!(!re.is_match(bad), "{bad} should not match");
        }
    }

    #[test]
    fn newest_tag_sorts_last_numerically() {
        let p = tag_policy("main-{sha}-{timestamp}").unwrap();
        let re = Regex::new(&p.pattern).unwrap();
        let mut tags = [
            "main-aaaaaaa-20260207143000",
            "main-bbbbbbb-20251231235959",
            "main-ccccccc-20260207143001",
        ];
        tags.sort_by_key(|t| re.captures(t).unwrap()["ts"].parse::<u64>().unwrap());
        assert_eq!(tags.last(), Some(&"main-ccccccc-20260207143001"));
    }

    #[test]
    fn formats_without_an_order_are_refused() {
        assert!(
            tag_policy("main-{sha}")
                .unwrap_err()
                .contains("cannot tell which tag is newest")
        );
        assert!(tag_policy("{run}").is_ok());
        assert!(tag_policy("v{semver}").is_err());
    }
}
