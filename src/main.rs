//! The `gmdiff` binary. Every error prints one line starting with `error:` and exits with status 2.

mod cli;

use clap::Parser;
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
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first paragraph (e.g. "the following required arguments were not provided:"
            // and the list of them), joined into one line; the usage and tips are dropped.
            let text = e.render().to_string();
            let paragraph: Vec<&str> = text.lines().map(str::trim).skip_while(|l| l.is_empty()).take_while(|l| !l.is_empty()).collect();
            let line = paragraph.join(" ");
            let line = line.strip_prefix("error:").unwrap_or(&line).trim();
            eprintln!("error: {}", if line.is_empty() { "invalid arguments" } else { line });
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
