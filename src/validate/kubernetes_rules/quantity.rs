//! Kubernetes quantities as the model writes them (`250m`, `"1.5"`, `256Mi`, `1G`),
//! compared exactly: a request above its limit is refused by the API server.

use std::cmp::Ordering;

/// A quantity as an exact fraction: `numerator / 10^scale` base units (millicores for
/// CPU, bytes for memory).
#[derive(Clone, Copy, Debug)]
pub(super) struct Quantity {
    numerator: u128,
    scale: u32,
}

impl Quantity {
    /// A CPU quantity (`250m`, `2`, `0.5`) in millicores; `None` if it is not one.
    pub(super) fn cpu(text: &str) -> Option<Quantity> {
        match text.strip_suffix('m') {
            Some(milli) => decimal(milli, 1),
            None => decimal(text, 1000),
        }
    }

    /// A memory quantity (`256Mi`, `1G`, `512`) in bytes; `None` if it is not one.
    pub(super) fn memory(text: &str) -> Option<Quantity> {
        const SUFFIXES: [(&str, u128); 8] = [
            ("Ki", 1 << 10),
            ("Mi", 1 << 20),
            ("Gi", 1 << 30),
            ("Ti", 1 << 40),
            ("k", 1_000),
            ("M", 1_000_000),
            ("G", 1_000_000_000),
            ("T", 1_000_000_000_000),
        ];
        for (suffix, factor) in SUFFIXES {
            if let Some(number) = text.strip_suffix(suffix) {
                return decimal(number, factor);
            }
        }
        decimal(text, 1)
    }

    /// Compares exactly; `None` when the product does not fit in 128 bits (no such
    /// quantity is one Kubernetes accepts either).
    pub(super) fn compare(self, other: Quantity) -> Option<Ordering> {
        let lhs = self
            .numerator
            .checked_mul(10u128.checked_pow(other.scale)?)?;
        let rhs = other
            .numerator
            .checked_mul(10u128.checked_pow(self.scale)?)?;
        Some(lhs.cmp(&rhs))
    }
}

/// `digits[.digits]` times `factor`.
fn decimal(text: &str, factor: u128) -> Option<Quantity> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return None;
    }
    let mut numerator: u128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        numerator = numerator
            .checked_mul(10)?
            .checked_add(u128::from(b - b'0'))?;
    }
    Some(Quantity {
        numerator: numerator.checked_mul(factor)?,
        scale: u32::try_from(fraction.len()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp_cpu(a: &str, b: &str) -> Option<Ordering> {
        Quantity::cpu(a)?.compare(Quantity::cpu(b)?)
    }

    fn cmp_memory(a: &str, b: &str) -> Option<Ordering> {
        Quantity::memory(a)?.compare(Quantity::memory(b)?)
    }

    #[test]
    fn cpu_compares_exactly_across_notations() {
        assert_eq!(cmp_cpu("1", "1000m"), Some(Ordering::Equal));
        assert_eq!(cmp_cpu("0.5", "500m"), Some(Ordering::Equal));
        assert_eq!(cmp_cpu("0.1", "100m"), Some(Ordering::Equal));
        assert_eq!(cmp_cpu("250m", "0.25"), Some(Ordering::Equal));
        assert_eq!(cmp_cpu("501m", "0.5"), Some(Ordering::Greater));
        assert_eq!(cmp_cpu("2", "1.999"), Some(Ordering::Greater));
        assert_eq!(cmp_cpu("50m", "500m"), Some(Ordering::Less));
    }

    #[test]
    fn memory_compares_binary_and_decimal_suffixes() {
        assert_eq!(cmp_memory("1Gi", "1024Mi"), Some(Ordering::Equal));
        assert_eq!(cmp_memory("1G", "1Gi"), Some(Ordering::Less));
        assert_eq!(cmp_memory("1.5Gi", "1536Mi"), Some(Ordering::Equal));
        assert_eq!(cmp_memory("256Mi", "128Mi"), Some(Ordering::Greater));
        assert_eq!(cmp_memory("1000k", "1M"), Some(Ordering::Equal));
        assert_eq!(cmp_memory("1048576", "1Mi"), Some(Ordering::Equal));
    }

    #[test]
    fn malformed_and_overflowing_quantities_are_none() {
        for bad in ["", "m", ".5", "5.", "1.2.3", "-1", "1e3", "abc"] {
            assert!(Quantity::cpu(bad).is_none(), "{bad}");
        }
        assert!(Quantity::memory("1Pi").is_none());
        assert!(Quantity::memory(&format!("{}Ti", "9".repeat(40))).is_none());
    }
}
