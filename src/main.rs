//! The spx binary: parse arguments, run the command, map the error to sops's exit code.

use clap::Parser;
use spx::cli::{Cli, Command, SUBCOMMANDS};
use spx::commands::{self, Global};

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `spx FILE` edits FILE, as `sops FILE` does.
    if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
        if !first.starts_with('-') && !SUBCOMMANDS.contains(&first) {
            args.insert(1, "edit".into());
        }
    }
    let cli = Cli::parse_from(args);
    spx::ui::init(cli.color, cli.quiet);
    let g = Global {
        config: cli.config.clone(),
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    let result = match &cli.command {
        Command::Encrypt(a) => commands::encrypt::run(&g, a),
        Command::Decrypt(a) => commands::decrypt::run(&g, a),
        Command::Edit(a) => commands::edit::run(&g, a),
        Command::Set(a) => commands::set::run_set(&g, a),
        Command::Unset(a) => commands::set::run_unset(&g, a),
        Command::Rotate(a) => commands::rotate::run(&g, a),
        Command::Updatekeys(a) => commands::updatekeys::run(&g, a),
        Command::ExecEnv(a) => commands::exec::run_env(&g, a),
        Command::ExecFile(a) => commands::exec::run_file(&g, a),
        Command::Filestatus(a) => commands::filestatus::run(&g, a),
        Command::Keygen(a) => commands::keygen::run(&g, a),
        Command::Init(a) => commands::init::run(&g, a),
        Command::Recipients(a) => commands::recipients::run(&g, a),
        Command::Doctor(a) => commands::doctor::run(&g, a),
        Command::Status(a) => commands::status::run(&g, a),
        Command::Log(a) => commands::log::run(&g, a),
        Command::Verify(a) => commands::verify::run(a),
        Command::Hook(a) => commands::hook::run(a),
        Command::Diff(a) => commands::git::diff(&g, a),
        Command::Merge(a) => commands::git::merge(&g, a),
        Command::MergeLog(a) => commands::git::merge_log(&g, a),
        Command::Git(a) => commands::git::git(&g, a),
        Command::Sync(a) => commands::sync::run(&g, a),
        Command::Completions(a) => commands::completions::completions(a),
        Command::Man(a) => commands::completions::man(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("{} {e}", spx::ui::error_prefix());
            std::process::exit(e.exit_code());
        }
    }
}
