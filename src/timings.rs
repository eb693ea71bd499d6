//! Phase timings for profiling: with `KILN_TIMINGS=1` in the environment, each timed
//! phase prints `kiln: <phase> <ms>` to stderr when it ends. Off, a phase costs one
//! check of a flag read once.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KILN_TIMINGS").is_some_and(|v| v != "0"))
}

/// Runs `f`, printing how long it took when timings are on.
#[allow(clippy::print_stderr)] // a profiling aid asked for by name: stderr is its place
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let value = f();
    eprintln!(
        "kiln: {name} {:.1} ms{}",
        start.elapsed().as_secs_f64() * 1000.0,
        memory()
    );
    value
}

/// Prints `note` when timings are on.
#[allow(clippy::print_stderr)] // as for `phase`
pub fn note(note: &str) {
    if enabled() {
        eprintln!("kiln: {note}");
    }
}

/// `, RSS n MiB (peak m MiB)` from `/proc/self/status`, where there is one.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(", RSS {} MiB (peak {} MiB)", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}
