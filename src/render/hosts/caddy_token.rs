//! Caddyfile tokens: the one place a value becomes Caddyfile text.
//!
//! Caddy's lexer (`caddyconfig/caddyfile/lexer.go`) splits on whitespace; a token
//! that starts with `"` runs to the next unescaped `"` (inside, `\"` is a quote and
//! any other `\` is literal), one that starts with a backtick runs to the next
//! backtick with no escapes at all, `#` at the start of a token begins a comment and
//! `<<` a heredoc. Before lexing, Caddy replaces every `{$NAME}` in the file with an
//! environment variable, quoted or not; at run time most directives replace
//! `{placeholders}`. So a value is written bare when nothing in it is special,
//! else quoted, and refused when it holds what no quoting keeps literal: control
//! characters (a line break ends the directive) and braces.

use serde::{Serialize, Serializer};
use std::fmt;

/// One Caddyfile token, written so that Caddy reads back exactly the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token(String);

/// Why a value cannot be a Caddyfile token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The value, with control characters escaped.
    pub value: String,
    /// What in it cannot be written.
    pub why: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` cannot be written into a Caddyfile: {}",
            self.value, self.why
        )
    }
}

fn refused(value: &str, why: &'static str) -> Refused {
    Refused {
        value: value.escape_debug().to_string(),
        why,
    }
}

impl Token {
    /// The token for `value`: bare, double-quoted or backtick-quoted.
    pub fn new(value: &str) -> Result<Token, Refused> {
        if value.chars().any(char::is_control) {
            return Err(refused(
                value,
                "it contains a control character (a line break would end the directive)",
            ));
        }
        if value.contains(['{', '}']) {
            return Err(refused(
                value,
                "Caddy reads `{…}` as an environment variable or placeholder, quoted or not",
            ));
        }
        let special = |c: char| c.is_whitespace() || matches!(c, '"' | '`' | '\\');
        if !value.is_empty()
            && !value.starts_with('#')
            && !value.starts_with("<<")
            && !value.chars().any(special)
        {
            return Ok(Token(value.to_owned()));
        }
        // In "...", only `\"` is an escape: a `\` before a quote (or the closing one)
        // cannot be written.
        if !value.contains("\\\"") && !value.ends_with('\\') {
            return Ok(Token(format!("\"{}\"", value.replace('"', "\\\""))));
        }
        if !value.contains('`') {
            return Ok(Token(format!("`{value}`")));
        }
        Err(refused(
            value,
            "it holds both a backtick and a `\\` before a quote, which no Caddyfile quoting keeps",
        ))
    }

    /// The text as written into the Caddyfile.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A directive line: its name (kiln's own word) and each argument as a token.
pub fn directive(name: &str, args: &[&str]) -> Result<String, Refused> {
    let mut line = name.to_owned();
    for arg in args {
        line.push(' ');
        line.push_str(Token::new(arg)?.as_str());
    }
    Ok(line)
}

/// The text of a `# comment` line: one line, no control characters.
pub fn comment(text: &str) -> Result<String, Refused> {
    if text.chars().any(char::is_control) {
        return Err(refused(
            text,
            "a comment with a control character (a line break would end it)",
        ));
    }
    Ok(text.to_owned())
}

/// `host:port` for an upstream, IPv6 addresses in brackets.
pub fn host_port(host: &str, port: u16) -> Result<Token, Refused> {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        Token::new(&format!("[{host}]:{port}"))
    } else {
        Token::new(&format!("{host}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &str) -> String {
        Token::new(v).unwrap().0
    }

    #[test]
    fn plain_values_are_bare_and_others_quoted_by_the_lexer_rules() {
        assert_eq!(t("ops@example.com"), "ops@example.com");
        assert_eq!(t("/api/*"), "/api/*");
        assert_eq!(t("a b"), "\"a b\"");
        assert_eq!(t(""), "\"\"");
        assert_eq!(t("#x"), "\"#x\"");
        assert_eq!(t("<<EOF"), "\"<<EOF\"");
        assert_eq!(t("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(t("C:\\dir\\x"), "\"C:\\dir\\x\"");
        assert_eq!(t("ends\\"), "`ends\\`");
        assert_eq!(t("a\\\"b"), "`a\\\"b`");
    }

    #[test]
    fn line_breaks_braces_and_unquotable_values_are_refused() {
        for bad in [
            "ops@example.com\n}\n:80 {",
            "a\rb",
            "a\tb",
            "{$HOME}",
            "{env.TOKEN}",
            "}",
            "`a\\\"b",
        ] {
            assert!(Token::new(bad).is_err(), "{bad:?}");
        }
        assert!(comment("route `main`\n:80 {").is_err());
        assert_eq!(
            directive("tls", &["/etc/a b.pem", "/etc/k.pem"]).unwrap(),
            "tls \"/etc/a b.pem\" /etc/k.pem"
        );
        assert_eq!(host_port("::1", 80).unwrap().0, "[::1]:80");
        assert_eq!(host_port("127.0.0.1", 80).unwrap().0, "127.0.0.1:80");
    }
}
