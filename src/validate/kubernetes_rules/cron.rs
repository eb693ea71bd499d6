//! Cron schedules as Kubernetes reads a CronJob's `schedule`: the standard parser of
//! `robfig/cron` (five fields, month and weekday names, `*`, `?`, ranges, lists and
//! steps; or a descriptor such as `@daily` or `@every 1h`), without a `TZ=` or
//! `CRON_TZ=` prefix (the API server refuses those: the time zone is its own field).
//!
//! Written here rather than taken from a crate: the cron crates (`croner`, `saffron`,
//! `cron`) accept more than Kubernetes does (seconds, years, `L`, `W`, `#`, weekday 7),
//! and what kiln needs is exactly the set the API server accepts.

/// One field: its name, bounds and the names it accepts (lowercase, numbered from
/// `names_from`).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    names_from: u32,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        names_from: 0,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        names_from: 0,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        names_from: 0,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        names_from: 1,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 6,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        names_from: 0,
    },
];

/// The descriptors the standard parser knows besides `@every`.
const DESCRIPTORS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Checks `schedule`; the error says what is wrong in words.
pub(super) fn validate(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("a CronJob's schedule cannot set a time zone (`TZ=`)".to_owned());
    }
    if let Some(rest) = s.strip_prefix('@') {
        if DESCRIPTORS.contains(&s) {
            return Ok(());
        }
        if let Some(duration) = rest.strip_prefix("every ") {
            return every(duration.trim());
        }
        return Err(format!(
            "`{s}` is not a cron descriptor (known: {}, `@every <duration>`)",
            DESCRIPTORS.join(", ")
        ));
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "a schedule has five fields (minute hour day-of-month month day-of-week), not {}",
            fields.len()
        ));
    }
    for (text, field) in fields.iter().zip(&FIELDS) {
        for part in text.split(',') {
            range(part, field).map_err(|why| format!("{} `{text}`: {why}", field.name))?;
        }
    }
    Ok(())
}

/// One element of a list: `*`, `?`, `N` or `N-M`, optionally followed by `/STEP`.
fn range(part: &str, field: &Field) -> Result<(), String> {
    let (span, step) = match part.split_once('/') {
        Some((span, step)) => (span, Some(step)),
        None => (part, None),
    };
    let (low, high) = if span == "*" || span == "?" {
        (field.min, field.max)
    } else {
        match span.split_once('-') {
            Some((a, b)) => (value(a, field)?, value(b, field)?),
            // `N/STEP` runs from N to the field's maximum.
            None if step.is_some() => (value(span, field)?, field.max),
            None => {
                let v = value(span, field)?;
                (v, v)
            }
        }
    };
    if low > high {
        return Err(format!("the range starts at {low}, after its end {high}"));
    }
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n > 0 && step.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(format!("`/{step}` is not a step (a whole number above 0)")),
        }
    }
    Ok(())
}

/// A number or a name within the field's bounds.
fn value(text: &str, field: &Field) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = field.names.iter().position(|n| *n == lower) {
        return Ok(field.names_from + i as u32);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if text.is_empty() {
            "an empty value".to_owned()
        } else {
            format!("`{text}` is not a number")
        });
    }
    match text.parse::<u32>() {
        Ok(v) if (field.min..=field.max).contains(&v) => Ok(v),
        _ => Err(format!("{text} is outside {}–{}", field.min, field.max)),
    }
}

/// The duration of `@every`, as Go's `time.ParseDuration` reads it: numbers (with an
/// optional fraction) each followed by a unit, at least one.
fn every(duration: &str) -> Result<(), String> {
    let bad = || format!("`{duration}` is not a duration such as `1h30m`");
    let mut rest = duration;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 || !rest[..digits].bytes().any(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_what_kubernetes_accepts() {
        for s in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1,15 * *",
            "5 4 * * sun",
            "0 22 * * 1-5",
            "0 0 * JAN-MAR MON",
            "30 2 ? * *",
            "0 0-23/2 * * *",
            "10/5 * * * *",
            "59 23 31 12 6",
            "@hourly",
            "@yearly",
            "@annually",
            "@midnight",
            "@every 1h30m",
            "@every 90s",
        ] {
            assert_eq!(validate(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn refuses_what_kubernetes_refuses_and_says_why() {
        for (s, why) in [
            ("61 * * * *", "minute `61`: 61 is outside 0–59"),
            ("* 24 * * *", "hour `24`: 24 is outside 0–23"),
            ("* * 0 * *", "day of month `0`: 0 is outside 1–31"),
            ("* * * 13 *", "month `13`: 13 is outside 1–12"),
            ("* * * * 7", "day of week `7`: 7 is outside 0–6"),
            ("* * * * *  *", "five fields"),
            ("* * * *", "five fields"),
            ("5-1 * * * *", "starts at 5, after its end 1"),
            ("*/0 * * * *", "`/0` is not a step"),
            ("1,,2 * * * *", "an empty value"),
            ("0 3 L * *", "`L` is not a number"),
            ("0 3 * * 1#2", "`1#2` is not a number"),
            ("0 3 * * MON'", "`MON'` is not a number"),
            ("-1 * * * *", "an empty value"),
            ("TZ=UTC 0 3 * * *", "time zone"),
            ("CRON_TZ=Europe/Paris 0 3 * * *", "time zone"),
            ("@often", "not a cron descriptor"),
            ("@every", "not a cron descriptor"),
            ("@every 5", "not a duration"),
            ("@every h", "not a duration"),
        ] {
            let got = validate(s).expect_err(s);
            assert!(got.contains(why), "{s}: {got}");
        }
    }
}
