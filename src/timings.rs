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
        "kiln: {name} {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
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
