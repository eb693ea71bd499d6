//! What two environments are expected to differ in, taken from the model: each
//! environment's name (`${env}`), its domain (`${domain}`) and the namespaces its
//! pattern gives (`environment.namespaces`, e.g. `{group}-{env}`). Before two
//! environments' resources are matched and compared, every string is rewritten with
//! these rules, so `invoicetron-dev` and `invoicetron-prod` both read
//! `invoicetron-${env}` and `web.dev.example.com` and `web.example.com` both read
//! `web.${domain}`.
//!
//! Both sides are rewritten with the rules of both environments (not each with its own),
//! so a value the two share, such as `api.example.com` when prod's domain is
//! `example.com` and dev's is `dev.example.com`, reads the same on both sides. A
//! literal is replaced only as a whole token: the characters around it are not letters
//! or digits (`dev` in `https-dev` is, in `devices` it is not).

use crate::model::Environment;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// One rewrite: `literal` → `placeholder`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rule {
    /// What the model produced in one environment.
    pub literal: String,
    /// What it is compared as.
    pub placeholder: String,
}

/// The rewrites applied before comparing.
#[derive(Clone, Debug, Default)]
pub struct Normalizer {
    /// Longest literal first, so `dev.example.com` wins over `example.com`.
    rules: Vec<Rule>,
    /// Finds every literal in a string in one pass (pattern i is `rules[i]`): a
    /// fleet has a namespace rule per app and environment, far too many to search
    /// for one by one in every string.
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Normalizer {
    /// No rewriting: comparing one environment with itself at another revision.
    pub fn none() -> Normalizer {
        Normalizer::default()
    }

    /// The rules of two environments, as their models define them.
    pub fn between(a: &Environment, b: &Environment) -> Normalizer {
        let mut rules = Vec::new();
        for env in [a, b] {
            let model = &env.model;
            for (name, app) in model.enabled_apps() {
                let literal = model.namespace(&env.name, name, app);
                let placeholder = model
                    .environment
                    .namespaces
                    .replace("{group}", model.group(name, app).as_str())
                    .replace("{app}", name.as_str())
                    .replace("{env}", "${env}");
                if literal != placeholder {
                    rules.push(Rule {
                        literal,
                        placeholder,
                    });
                }
            }
            if let Some(domain) = &model.environment.domain {
                rules.push(Rule {
                    literal: domain.clone(),
                    placeholder: "${domain}".to_owned(),
                });
            }
            rules.push(Rule {
                literal: env.name.to_string(),
                placeholder: "${env}".to_owned(),
            });
        }
        Normalizer::from_rules(rules)
    }

    /// A normalizer with these rules (duplicates and empty literals dropped).
    pub fn from_rules(mut rules: Vec<Rule>) -> Normalizer {
        rules.retain(|r| !r.literal.is_empty());
        rules.sort_by(|a, b| b.literal.len().cmp(&a.literal.len()).then_with(|| a.cmp(b)));
        rules.dedup_by(|a, b| a.literal == b.literal);
        let matcher = (!rules.is_empty()).then(|| {
            aho_corasick::AhoCorasick::new(rules.iter().map(|r| r.literal.as_str()))
                .unwrap_or_else(|e| panic!("literals kiln derived cannot be searched: {e}"))
        });
        Normalizer { rules, matcher }
    }

    /// The rules, longest literal first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rewrites one string: from left to right, at the start of a token, the first
    /// rule (longest literal first) whose literal is there as a whole token.
    pub fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let Some(matcher) = &self.matcher else {
            return Cow::Borrowed(s);
        };
        // Where each literal occurs, by position, then rule order.
        let mut found: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(s)
            .map(|m| (m.start(), m.pattern().as_usize()))
            .collect();
        if found.is_empty() {
            return Cow::Borrowed(s);
        }
        found.sort_unstable();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let mut next = 0;
        let mut prev: Option<char> = None;
        'scan: while i < s.len() {
            while next < found.len() && found[next].0 < i {
                next += 1;
            }
            if !prev.is_some_and(is_word) {
                for &(_, r) in found[next..].iter().take_while(|(at, _)| *at == i) {
                    let rule = &self.rules[r];
                    if !s[i + rule.literal.len()..]
                        .chars()
                        .next()
                        .is_some_and(is_word)
                    {
                        out.push_str(&rule.placeholder);
                        i += rule.literal.len();
                        prev = rule.literal.chars().last();
                        continue 'scan;
                    }
                }
            }
            let c = s[i..].chars().next().unwrap_or_default();
            out.push(c);
            prev = Some(c);
            i += c.len_utf8();
        }
        Cow::Owned(out)
    }

    /// Rewrites every string (and map key) of a value.
    pub fn value(&self, v: &Value) -> Value {
        if self.rules.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => Value::String(self.text(s).into_owned()),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k).into_owned(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Whether two values are equal once rewritten.
    pub fn equal(&self, a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) => x == y || self.text(x) == self.text(y),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| self.equal(p, q))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter().all(|(k, v)| {
                        self.key_in(k, y)
                            .is_some_and(|other| self.equal(v, &y[other]))
                    })
            }
            _ => a == b,
        }
    }

    /// The key of `map` that matches `key`: itself, or one equal once rewritten.
    pub fn key_in<'m>(
        &self,
        key: &str,
        map: &'m serde_json::Map<String, Value>,
    ) -> Option<&'m String> {
        if let Some((k, _)) = map.get_key_value(key) {
            return Some(k);
        }
        if self.rules.is_empty() {
            return None;
        }
        let want = self.text(key);
        map.keys().find(|k| self.text(k) == want)
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm() -> Normalizer {
        let rule = |l: &str, p: &str| Rule {
            literal: l.to_owned(),
            placeholder: p.to_owned(),
        };
        Normalizer::from_rules(vec![
            rule("dev", "${env}"),
            rule("prod", "${env}"),
            rule("dev.example.com", "${domain}"),
            rule("example.com", "${domain}"),
            rule("shop-dev", "shop-${env}"),
            rule("shop-prod", "shop-${env}"),
        ])
    }

    #[test]
    fn rewrites_whole_tokens_longest_first() {
        let n = norm();
        assert_eq!(n.text("web.dev.example.com"), "web.${domain}");
        assert_eq!(n.text("web.example.com"), "web.${domain}");
        assert_eq!(n.text("shop-prod"), "shop-${env}");
        assert_eq!(n.text("https-dev"), "https-${env}");
        assert_eq!(n.text("devices and produce"), "devices and produce");
        assert_eq!(n.text("environments/dev.yaml"), "environments/${env}.yaml");
        assert_eq!(n.text("prod"), "${env}");
        assert_eq!(n.text("notexample.com"), "notexample.com");
    }

    #[test]
    fn equal_values_once_rewritten_and_keys_match_across_environments() {
        let n = norm();
        let a =
            serde_json::json!({"ns": "shop-dev", "hosts": ["a.dev.example.com"], "shop-dev": 1});
        let b = serde_json::json!({"ns": "shop-prod", "hosts": ["a.example.com"], "shop-prod": 1});
        assert!(n.equal(&a, &b));
        assert!(!n.equal(
            &a,
            &serde_json::json!({"ns": "shop-prod", "hosts": [], "shop-prod": 1})
        ));
        assert!(!Normalizer::none().equal(&a, &b));
    }
}
