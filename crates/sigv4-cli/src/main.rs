//! `sigv4`: sign, presign, verify and inspect AWS Signature Version 4 requests.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod explain;
mod sign_cmd;

/// AWS Signature Version 4 from the command line.
#[derive(Parser, Debug)]
#[command(name = "sigv4", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sign a request (header signing, or a presigned URL with --presign).
    Sign(sign_cmd::SignArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() {
                // One line naming the problem; the full usage is one `--help` away.
                let rendered = e.to_string();
                let summary: Vec<&str> = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect();
                let summary = summary.join(" ");
                eprintln!("sigv4: {}", summary.trim_start_matches("error: "));
                eprintln!("(see `sigv4 --help`)");
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let code = match &cli.command {
        Command::Sign(args) => sign_cmd::run(args),
    };
    ExitCode::from(code)
}
