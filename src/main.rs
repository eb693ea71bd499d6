//! The `kiln` command. Everything happens in the library; this maps the outcome to
//! an exit code (0 clean, 1 findings, 2 error).

use std::process::ExitCode;

/// kiln allocates many small values (one per YAML node it renders) from several
/// threads; mimalloc is faster at that than the system allocator and keeps less
/// memory (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    kiln::commands::main()
}
