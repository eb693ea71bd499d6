//! `kiln completions SHELL`: a completion script generated from the clap definition,
//! so it always knows every command and option.

use super::{Outcome, Printer};
use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;

pub(super) fn run(args: &CompletionsArgs, out: &Printer) -> crate::Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "kiln", &mut script);
    out.stdout(&String::from_utf8_lossy(&script));
    Ok(Outcome::Clean)
}
