//! `spx log`: read the rotation log (list with filters), `spx log verify`, `spx log stale`.

use crate::error::{Error, Result};
use crate::log::{self, table, Entry, HeadCheck, StaleEntry};
use chrono::{DateTime, TimeDelta, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Clone)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  spx log --file secrets/shared.sops.yaml --since 30d\n  spx log --key smtp --format json\n  spx log verify                     # exit 1 when the log was rewritten\n  spx log stale --older-than 6m"
)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: Option<LogCommand>,
    /// The rotation log to read [default: `spx: log: path` from .sops.yaml, else
    /// docs/secrets-rotation-log.md at the repository root]
    #[arg(long = "log-path", value_name = "PATH", global = true)]
    pub log_path: Option<PathBuf>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum LogCommand {
    /// Check the log: the chain of digests holds and committed rows were only appended to.
    /// Exits 1 with one line per problem.
    #[command(
        after_help = "Examples:\n  spx log verify\n  spx log verify --log-path docs/secrets-rotation-log.md"
    )]
    Verify,
    /// Every secret with the date it last changed per the log, oldest first, flagging those
    /// not changed within the limit.
    #[command(
        after_help = "Examples:\n  spx log stale                      # flags secrets unchanged for 90 days\n  spx log stale --older-than 1y --format json"
    )]
    Stale(StaleArgs),
}

/// Filters for the listing (`spx log` without a subcommand).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Only rows for this file (path relative to the repository root)
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// Only rows for this key path or keys below it (`smtp` matches `smtp.password`)
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Only rows at or after a date (2026-01-01) or within a duration back from now (30d, 12w,
    /// 6m, 1y)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(clap::Args, Debug, Clone)]
pub struct StaleArgs {
    /// Flag secrets not changed within this long: 90d, 12w, 6m (30 days), 1y (365 days)
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub older_than: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Run `spx log` from the current directory: the log is `--log-path`, else
/// `docs/secrets-rotation-log.md` at the repository root; `stale` lists the keys the log knows
/// of (see [`run_at`] to pass the sops files' keys instead).
pub fn run(g: &crate::commands::Global, args: &LogArgs) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| {
        Error::Other(format!(
            "cannot read the current directory: {e}; cd to an existing directory"
        ))
    })?;
    let root = log::repo_root(&cwd);
    let log_path = match &args.log_path {
        Some(p) => p.clone(),
        None => crate::commands::log_location(g, &root.join(".sops.yaml"))
            .map(|(p, _)| p)
            .unwrap_or_else(|| root.join(log::DEFAULT_LOG_PATH)),
    };
    // For `stale`: every key of every sops file a creation rule matches. Keys are cleartext in
    // sops files, so nothing is decrypted.
    let keys = match (&args.command, g.config()) {
        (Some(LogCommand::Stale(_)), Ok(Some(config))) => Some(repository_keys(&config, &root)),
        _ => None,
    };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_at(
        args,
        &root,
        &log_path,
        keys.as_deref(),
        &mut stdout.lock(),
        &mut stderr.lock(),
        log::now(),
    )
}

/// `(file, key path)` of every value in every sops file under the repository.
pub fn repository_keys(config: &crate::config::Config, root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in crate::commands::updatekeys::repository_files(config) {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let fmt = crate::store::Format::from_path(&f);
        let name = log::repo_relative(root, &f);
        if let Ok(file) = crate::document::SopsFile::parse(&bytes, fmt, &name) {
            for key in log::leaf_paths(&file.docs) {
                out.push((name.clone(), key));
            }
        }
    }
    out
}

/// `spx log` with everything explicit: the repository root, the log, the `(file, key)` pairs
/// of every sops file for `stale` (`None`: those the log knows of), where to write, and now.
pub fn run_at(
    args: &LogArgs,
    repo_root: &Path,
    log_path: &Path,
    keys: Option<&[(String, String)]>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    now: DateTime<Utc>,
) -> Result<i32> {
    let werr = |e| Error::Write {
        path: "<stdout>".into(),
        source: e,
    };
    match &args.command {
        Some(LogCommand::Verify) => {
            let report = log::verify(log_path, repo_root)?;
            let shown = log_path.display();
            for p in &report.problems {
                match p.line {
                    Some(l) => writeln!(err, "{shown}:{l}: {}", p.message),
                    None => writeln!(err, "{shown}: {}", p.message),
                }
                .map_err(werr)?;
            }
            let head = match report.head {
                HeadCheck::Compared { head_rows } => {
                    format!("compared with HEAD ({head_rows} committed rows)")
                }
                HeadCheck::NotTracked => "not in HEAD, not compared with git".into(),
                HeadCheck::NoRepository => "no git commit to compare with".into(),
            };
            let summary = format!(
                "{shown}: {} rows ({} chained, {} hand-written before the chain); {head}",
                report.rows, report.chained, report.unchained
            );
            if report.is_ok() {
                writeln!(out, "ok: {summary}").map_err(werr)?;
                Ok(0)
            } else {
                writeln!(
                    err,
                    "FAILED: {} problem(s); {summary}",
                    report.problems.len()
                )
                .map_err(werr)?;
                Ok(1)
            }
        }
        Some(LogCommand::Stale(s)) => {
            let limit = log::parse_duration(&s.older_than).ok_or_else(|| {
                Error::Usage(format!(
                    "--older-than {:?}: expected a number and a unit d, w, m or y (like 90d)",
                    s.older_than
                ))
            })?;
            let entries = read_entries(log_path)?;
            let owned;
            let keys = match keys {
                Some(k) => k,
                None => {
                    owned = log::keys_from_log(&entries);
                    &owned
                }
            };
            let list = log::stale(&entries, keys, limit, now);
            match s.format {
                OutputFormat::Json => writeln!(out, "{}", stale_json(&list)).map_err(werr)?,
                OutputFormat::Text => write!(out, "{}", stale_text(&list, limit)).map_err(werr)?,
            }
            Ok(0)
        }
        None => {
            let since = match &args.list.since {
                Some(s) => Some(log::parse_since(s, now).ok_or_else(|| {
                    Error::Usage(format!(
                        "--since {s:?}: expected a date (2026-01-01) or a duration (30d, 12w, 6m, 1y)"
                    ))
                })?),
                None => None,
            };
            let filter = log::Filter {
                file: args.list.file.clone(),
                key: args.list.key.clone(),
                since,
            };
            let entries = read_entries(log_path)?;
            let rows: Vec<&Entry> = entries.iter().filter(|e| filter.matches(e)).collect();
            match args.list.format {
                OutputFormat::Json => writeln!(out, "{}", list_json(&rows)).map_err(werr)?,
                OutputFormat::Text => write!(out, "{}", list_text(&rows)).map_err(werr)?,
            }
            Ok(0)
        }
    }
}

/// The log's rows; a missing log has none.
fn read_entries(log_path: &Path) -> Result<Vec<Entry>> {
    match std::fs::read(log_path) {
        Ok(b) => Ok(table::parse(&String::from_utf8_lossy(&b)).entries),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::Read {
            path: log_path.to_path_buf(),
            source: e,
        }),
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn date_cell(e: &Entry) -> String {
    match &e.date {
        Some(d) => table::format_date(d),
        None => table::unescape_cell(e.cells.first().map(String::as_str).unwrap_or("")),
    }
}

/// Columns aligned with spaces; `-` for what a hand-written row does not say.
fn list_text(rows: &[&Entry]) -> String {
    let dash = |o: &Option<String>| o.as_deref().map(one_line).unwrap_or_else(|| "-".into());
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|e| {
            [
                one_line(&date_cell(e)),
                dash(&e.file),
                dash(&e.key),
                dash(&e.action),
                dash(&e.reason),
                dash(&e.rotator),
            ]
        })
        .collect();
    let head = ["DATE (UTC)", "FILE", "KEY", "ACTION", "REASON", "ROTATOR"].map(String::from);
    aligned(&head, &table)
}

fn aligned<const N: usize>(head: &[String; N], rows: &[[String; N]]) -> String {
    let mut w = [0usize; N];
    for r in std::iter::once(head).chain(rows.iter()) {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in std::iter::once(head).chain(rows.iter()) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 < N {
                line.push_str(&format!("{c:<width$}  ", width = w[i]));
            } else {
                line.push_str(c);
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn stale_text(list: &[StaleEntry], limit: TimeDelta) -> String {
    let rows: Vec<[String; 5]> = list
        .iter()
        .map(|e| {
            [
                e.last_changed
                    .map(|d| table::format_date(&d))
                    .unwrap_or_else(|| "never".into()),
                e.age_days
                    .map(|d| format!("{d}d"))
                    .unwrap_or_else(|| "-".into()),
                if e.stale {
                    "STALE".into()
                } else {
                    String::new()
                },
                e.file.clone(),
                e.key.clone(),
            ]
        })
        .collect();
    let head = ["LAST CHANGED (UTC)", "AGE", "", "FILE", "KEY"].map(String::from);
    let mut s = aligned(&head, &rows);
    let n = list.iter().filter(|e| e.stale).count();
    s.push_str(&format!(
        "{n} of {} secret(s) not changed within {} days\n",
        list.len(),
        limit.num_days()
    ));
    s
}

pub(crate) fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_opt(s: &Option<String>) -> String {
    s.as_deref().map(json_str).unwrap_or_else(|| "null".into())
}

fn list_json(rows: &[&Entry]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|e| {
            format!(
                "{{\"line\":{},\"date\":{},\"file\":{},\"key\":{},\"action\":{},\"reason\":{},\"rotator\":{},\"chain\":{}}}",
                e.line,
                json_str(&date_cell(e)),
                json_opt(&e.file),
                json_opt(&e.key),
                json_opt(&e.action),
                json_opt(&e.reason),
                json_opt(&e.rotator),
                json_opt(&e.chain),
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn stale_json(list: &[StaleEntry]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|e| {
            format!(
                "{{\"file\":{},\"key\":{},\"last_changed\":{},\"age_days\":{},\"stale\":{}}}",
                json_str(&e.file),
                json_str(&e.key),
                e.last_changed
                    .map(|d| json_str(&table::format_date(&d)))
                    .unwrap_or_else(|| "null".into()),
                e.age_days
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "null".into()),
                e.stale
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        log: LogArgs,
    }

    #[test]
    fn cli_parses_listing_and_subcommands() {
        let c = Cli::try_parse_from([
            "spx", "--file", "a.yaml", "--since", "30d", "--format", "json",
        ])
        .unwrap();
        assert!(c.log.command.is_none());
        assert_eq!(c.log.list.file.as_deref(), Some("a.yaml"));
        assert_eq!(c.log.list.format, OutputFormat::Json);
        let c = Cli::try_parse_from(["spx", "stale", "--older-than", "12w"]).unwrap();
        assert!(matches!(c.log.command, Some(LogCommand::Stale(ref s)) if s.older_than == "12w"));
        let c = Cli::try_parse_from(["spx", "verify", "--log-path", "x.md"]).unwrap();
        assert!(matches!(c.log.command, Some(LogCommand::Verify)));
        assert_eq!(c.log.log_path.as_deref(), Some(Path::new("x.md")));
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
