//! `spx verify`: the pre-commit verifier's command line.

use crate::error::Error;
use crate::verify::report::{self, OutputFormat};
use crate::verify::{Options, Scope};
use std::io::Write;
use std::path::PathBuf;

/// Check that no plaintext secret is (about to be) committed.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Exit status: 0 clean, 1 findings, 2 usage error.\n\nExamples:\n  spx verify                         # the staged changes, as the pre-commit hook does\n  spx verify --all --format sarif > spx.sarif\n  spx verify --decrypt secrets/shared.sops.yaml"
)]
pub struct VerifyArgs {
    /// Check the staged changes (blob content in the git index, not the work tree). The default
    /// when no path is given.
    #[arg(long, conflicts_with_all = ["all", "history"])]
    pub staged: bool,
    /// Check every tracked file (work tree content).
    #[arg(long, conflicts_with_all = ["history"])]
    pub all: bool,
    /// Check every blob of every commit reachable from HEAD, reporting the commit that added it.
    #[arg(long)]
    pub history: bool,
    /// Instead of scanning: check that each given sops file parses, its metadata is complete, an
    /// identity here opens it and its MAC holds — printing nothing secret.
    #[arg(long, conflicts_with_all = ["staged", "all", "history"])]
    pub decrypt: bool,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "sarif"])]
    pub format: String,
    /// Files or directories to check (directories are walked with .gitignore respected).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Run the verifier: exit 0 when clean, 1 on findings, 2 on a usage error.
pub fn run(args: &VerifyArgs) -> crate::Result<i32> {
    if args.decrypt {
        return check_decrypt(args);
    }
    let scopes = [args.staged, args.all, args.history, !args.paths.is_empty()]
        .iter()
        .filter(|b| **b)
        .count();
    if scopes > 1 {
        eprintln!("spx verify: give one of --staged, --all, --history or paths");
        return Ok(2);
    }
    let scope = if args.all {
        Scope::All
    } else if args.history {
        Scope::History
    } else if !args.paths.is_empty() {
        Scope::Paths(args.paths.clone())
    } else {
        Scope::Staged
    };
    let Some(format) = OutputFormat::from_name(&args.format) else {
        eprintln!(
            "spx verify: unknown --format {:?}; use text, json or sarif",
            args.format
        );
        return Ok(2);
    };
    let cwd = std::env::current_dir().map_err(|source| Error::Read {
        path: PathBuf::from("."),
        source,
    })?;
    let name = scope.name();
    let report = match crate::verify::run(&Options { scope, cwd }) {
        Ok(r) => r,
        Err(Error::Usage(msg)) => {
            eprintln!("spx verify: {msg}");
            return Ok(2);
        }
        Err(e) => return Err(e),
    };
    let out = match format {
        OutputFormat::Text => {
            report::styled_text(&report, name, crate::ui::color(crate::ui::Stream::Stdout))
        }
        OutputFormat::Json => report::json(&report, name),
        OutputFormat::Sarif => report::sarif(&report),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`spx verify | head`) is not an error worth a panic.
    let _ = stdout.write_all(out.as_bytes());
    if format != OutputFormat::Text {
        crate::ui::info(report::summary(&report, name));
    }
    Ok(if report.findings.is_empty() { 0 } else { 1 })
}

/// `spx verify --decrypt FILE…`: each file opens and its MAC holds. One line per file.
fn check_decrypt(args: &VerifyArgs) -> crate::Result<i32> {
    if args.paths.is_empty() {
        eprintln!("spx verify --decrypt: name the sops file(s) to check");
        return Ok(2);
    }
    let json = match OutputFormat::from_name(&args.format) {
        Some(OutputFormat::Text) => false,
        Some(OutputFormat::Json) => true,
        _ => {
            eprintln!("spx verify --decrypt: --format is text or json");
            return Ok(2);
        }
    };
    let ids = crate::keys::Identities::discover();
    let color = crate::ui::color(crate::ui::Stream::Stdout);
    let mut failed = 0;
    let mut results = Vec::new();
    for p in &args.paths {
        let name = p.display().to_string();
        let fmt = crate::store::Format::from_path(p);
        let result = crate::commands::read_input(&name)
            .and_then(|bytes| crate::commands::open_readonly(&bytes, fmt, &name, &ids, false));
        let entry = match result {
            Ok(o) => DecryptCheck {
                file: name,
                outcome: Ok((
                    crate::log::leaf_paths(&o.plain).len(),
                    o.file.metadata.all_recipients().len(),
                )),
            },
            Err(e) => {
                failed += 1;
                DecryptCheck {
                    file: name,
                    outcome: Err(e.to_string()),
                }
            }
        };
        if !json {
            println!("{}", entry.text(color));
        }
        results.push(entry);
    }
    if json {
        let doc = serde_json::json!({
            "files": results.iter().map(DecryptCheck::json).collect::<Vec<_>>(),
        });
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{doc:#}");
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// The outcome for one file of `verify --decrypt`: counts only, never a value.
struct DecryptCheck {
    file: String,
    /// (values, recipients), or why it failed.
    outcome: std::result::Result<(usize, usize), String>,
}

impl DecryptCheck {
    fn text(&self, color: bool) -> String {
        use crate::ui::{paint_if, Style};
        match &self.outcome {
            Ok((values, recipients)) => format!(
                "{}: {}: {values} values decrypt, MAC verified, {recipients} recipient(s)",
                self.file,
                paint_if(color, Style::Green, "ok")
            ),
            Err(e) => format!(
                "{}: {}: {e}",
                self.file,
                paint_if(color, Style::Red, "FAILED")
            ),
        }
    }

    fn json(&self) -> serde_json::Value {
        match &self.outcome {
            Ok((values, recipients)) => serde_json::json!({
                "file": self.file,
                "ok": true,
                "values": values,
                "recipients": recipients,
            }),
            Err(e) => serde_json::json!({
                "file": self.file,
                "ok": false,
                "error": e,
            }),
        }
    }
}
