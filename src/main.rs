//! The `kiln` command. Everything happens in the library; this maps the outcome to
//! an exit code (0 clean, 1 findings, 2 error).

use std::process::ExitCode;

fn main() -> ExitCode {
    kiln::commands::main()
}
