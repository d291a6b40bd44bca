//! `spx exec-env` and `spx exec-file`: run a command with the secrets in its environment or in
//! a private temp file, never in its argv. The child's exit status becomes spx's.

use super::{open_readonly, pick_format, read_input, Global};
use crate::error::{Error, Result};
use crate::fsutil::PrivateDir;
use crate::keys::Identities;
use crate::store;
use crate::tree::{Map, MapItem, Value};
use std::process::Command;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx exec-env secrets/shared.sops.yaml -- ./deploy.sh\n  spx exec-env secrets/shared.sops.yaml 'echo \"$SMTP_HOST\"'\n  spx exec-env -f secrets/shared.sops.yaml -f secrets/vps-i1.sops.yaml -- ./deploy.sh"
)]
pub struct ExecEnvArgs {
    /// Start the child with only the secrets in its environment
    #[arg(long)]
    pub pristine: bool,
    /// Do not verify the file's MAC
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Several sops files (repeatable): later files override earlier ones; with -f, every
    /// positional argument is the command
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<String>,
    /// The sops file (when no -f is given), then the command: one argument runs through
    /// /bin/sh -c (as sops does); several are run directly
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "FILE] [COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Examples:\n  spx exec-file secrets/shared.sops.yaml -- cat {}")]
pub struct ExecFileArgs {
    /// Accepted for sops compatibility: spx always uses a regular 0600 file in a private directory
    #[arg(long)]
    pub no_fifo: bool,
    /// Name of the temp file (default: tmp-file with the output extension)
    #[arg(long, value_name = "NAME")]
    pub filename: Option<String>,
    /// Format of the temp file (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Do not verify the file's MAC
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The sops file
    pub file: String,
    /// The command; every {} is replaced by the temp file's path
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Environment form of a scalar (strings verbatim).
pub fn env_value(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::tree::format_float_plain(*f),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).to_string(),
        Value::Time(t) => t.0.clone(),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => return None,
    })
}

/// Flatten a document into environment variables: nested keys joined with `_`, list items by
/// index. Comments are skipped.
pub fn flatten_env(doc: &Map, file: &str) -> Result<Vec<(String, String)>> {
    fn walk(v: &Value, name: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::Map(m) => {
                for item in &m.items {
                    if let MapItem::Pair(k, v) = item {
                        walk(v, format!("{name}_{k}"), out);
                    }
                }
            }
            Value::List(l) => {
                for (i, item) in l
                    .iter()
                    .filter(|x| !matches!(x, Value::Comment(_)))
                    .enumerate()
                {
                    walk(item, format!("{name}_{i}"), out);
                }
            }
            other => {
                if let Some(s) = env_value(other) {
                    out.push((name, s));
                }
            }
        }
    }
    let mut out = Vec::new();
    for item in &doc.items {
        if let MapItem::Pair(k, v) = item {
            walk(v, k.clone(), &mut out);
        }
    }
    for (k, _) in &out {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(Error::Other(format!(
                "{file}: key {k:?} cannot be an environment variable name"
            )));
        }
    }
    Ok(out)
}

fn command_for(args: &[String]) -> Command {
    if args.len() == 1 {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(&args[0]);
        c
    } else {
        let mut c = Command::new(&args[0]);
        c.args(&args[1..]);
        c
    }
}

fn wait(mut c: Command) -> Result<i32> {
    use std::os::unix::process::ExitStatusExt;
    let status = c.status().map_err(|e| {
        Error::Other(format!(
            "cannot run {:?}: {e}; check that it is installed and on PATH",
            c.get_program()
        ))
    })?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

pub fn run_env(g: &Global, a: &ExecEnvArgs) -> Result<i32> {
    let (files, command): (Vec<String>, &[String]) = if a.files.is_empty() {
        (vec![a.command[0].clone()], &a.command[1..])
    } else {
        (a.files.clone(), &a.command[..])
    };
    let command = match command.first() {
        Some(x) if x == "--" => &command[1..],
        _ => command,
    };
    if command.is_empty() {
        return Err(Error::Usage(
            "exec-env needs a command after the file(s), e.g. `spx exec-env secrets/shared.sops.yaml -- ./deploy.sh`".into(),
        ));
    }
    let ids = Identities::discover();
    // Later files override earlier ones; --verbose says where each variable came from.
    let mut vars: zeroize::Zeroizing<Vec<(String, String)>> = zeroize::Zeroizing::new(Vec::new());
    for file in &files {
        let fmt = pick_format(a.input_type.as_deref(), file)?;
        let bytes = read_input(file)?;
        let o = open_readonly(&bytes, fmt, file, &ids, a.ignore_mac)?;
        let doc = o.plain.first().cloned().unwrap_or_default();
        for (k, v) in flatten_env(&doc, file)? {
            g.verbose(format!("{k} from {file}"));
            vars.retain(|(x, _)| x != &k);
            vars.push((k, v));
        }
    }
    let mut c = command_for(command);
    if a.pristine {
        c.env_clear();
    }
    for (k, v) in vars.iter() {
        c.env(k, v);
    }
    wait(c)
}

pub fn run_file(g: &Global, a: &ExecFileArgs) -> Result<i32> {
    let fmt = pick_format(a.input_type.as_deref(), &a.file)?;
    let out_fmt = match &a.output_type {
        Some(t) => pick_format(Some(t), &a.file)?,
        None => fmt,
    };
    let bytes = read_input(&a.file)?;
    let ids = Identities::discover();
    let o = open_readonly(&bytes, fmt, &a.file, &ids, a.ignore_mac)?;
    let plain = zeroize::Zeroizing::new(store::emit_plain(
        out_fmt,
        &o.plain,
        &g.emit_options(),
        &a.file,
    )?);
    drop(o);
    let dir = PrivateDir::new()?;
    let name = a
        .filename
        .clone()
        .unwrap_or_else(|| format!("tmp-file.{}", out_fmt.name()));
    if name.contains('/') {
        return Err(Error::Usage(format!(
            "--filename {name:?}: must be a plain file name without /, e.g. --filename app.env"
        )));
    }
    let path = dir.write_file(&name, &plain)?;
    let p = path.to_string_lossy().to_string();
    let args: Vec<String> = a.command.iter().map(|x| x.replace("{}", &p)).collect();
    let code = wait(command_for(&args));
    drop(dir);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_flatten_with_underscore() {
        let mut inner = Map::new();
        inner.push("password", Value::str("p"));
        inner.push("port", Value::Int(587));
        let mut m = Map::new();
        m.push("smtp", Value::Map(inner));
        m.push(
            "hosts",
            Value::List(vec![
                Value::str("a"),
                Value::Comment("c".into()),
                Value::str("b"),
            ]),
        );
        m.push("flag", Value::Bool(true));
        let v = flatten_env(&m, "f").unwrap();
        assert_eq!(
            v,
            vec![
                ("smtp_password".to_string(), "p".to_string()),
                ("smtp_port".into(), "587".into()),
                ("hosts_0".into(), "a".into()),
                ("hosts_1".into(), "b".into()),
                ("flag".into(), "true".into()),
            ]
        );
        let mut bad = Map::new();
        bad.push("a=b", Value::str("x"));
        assert!(flatten_env(&bad, "f").is_err());
    }
}
