//! The `gmdiff` binary. Every error prints one line starting with `error:` and exits with status 2.

mod cli;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use std::process::ExitCode;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("error: internal error (please report): {}", msg.lines().next().unwrap_or(""));
        std::process::exit(2);
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // A bare `gmdiff` is a usage error: one `error:` line, then the usage and commands.
            eprintln!("error: no subcommand given; `gmdiff help <COMMAND>` describes each one\n");
            eprint!("{}", cli::Cli::command().render_help());
            return ExitCode::from(2);
        }
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let text = e.to_string().replace('\n', " ");
            eprintln!("error: {text}");
            ExitCode::from(2)
        }
    }
}

/// clap's first paragraph (e.g. "the following required arguments were not provided:" and the
/// list of them) joined into one line, with its "did you mean" suggestion kept:
/// `unrecognized subcommand 'sampel' (did you mean 'sample'?)`. The usage and tips are dropped.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let paragraph: Vec<&str> = text.lines().map(str::trim).skip_while(|l| l.is_empty()).take_while(|l| !l.is_empty()).collect();
    let line = paragraph.join(" ");
    let line = line.strip_prefix("error:").unwrap_or(&line).trim();
    let mut line = if line.is_empty() { "invalid arguments".to_string() } else { line.to_string() };
    let suggestions: Vec<String> = [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg, ContextKind::SuggestedValue]
        .into_iter()
        .filter_map(|k| e.get(k))
        .flat_map(|v| match v {
            ContextValue::String(s) => vec![s.clone()],
            ContextValue::Strings(v) => v.clone(),
            ContextValue::StyledStr(s) => vec![s.to_string()],
            ContextValue::StyledStrs(v) => v.iter().map(|s| s.to_string()).collect(),
            _ => vec![],
        })
        .collect();
    if !suggestions.is_empty() {
        let quoted: Vec<String> = suggestions.iter().map(|s| format!("'{s}'")).collect();
        line.push_str(&format!(" (did you mean {}?)", quoted.join(" or ")));
    }
    line
}
