//! The command-line surface: every subcommand and flag with its help text. No logic here.

use crate::commands::{
    completions::CompletionsArgs, completions::ManArgs, decrypt::DecryptArgs, doctor::DoctorArgs,
    edit::EditArgs, encrypt::EncryptArgs, exec::ExecEnvArgs, exec::ExecFileArgs,
    filestatus::FilestatusArgs, git::DiffArgs, git::GitArgs, git::MergeArgs, git::MergeLogArgs,
    hook::HookArgs, init::InitArgs, keygen::KeygenArgs, log::LogArgs, recipients::RecipientsArgs,
    rotate::RotateArgs, set::SetArgs, set::UnsetArgs, status::StatusArgs, sync::SyncArgs,
    updatekeys::UpdatekeysArgs, verify::VerifyArgs,
};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `spx --help`, with the commands grouped by what they are for.
const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Secrets:
  edit         Open a decrypted copy in $EDITOR, re-encrypt on save (also: spx FILE)
  encrypt      Encrypt a plaintext file for its creation rule's recipients (or --age / -R)
  decrypt      Decrypt to stdout or a file; --extract one value; --mask for reviews
  set          Set one value (JSON) at a path, e.g. '[\"smtp\"][\"password\"]'
  unset        Remove the key or list item at a path
  rotate       New data key, every value re-encrypted; --add-age / --rm-age
  exec-env     Run a command with the secrets in its environment
  exec-file    Run a command with the secrets in a private temporary file
  filestatus   Tell whether a file is sops-encrypted

Keys:
  init         Set up a repository: identity, .sops.yaml, shared secrets, hook, log, .gitignore
  keygen       Create a new age identity and print its public key
  recipients   List, add or remove named recipients (onboarding, offboarding)
  updatekeys   Re-wrap each file's data key for the recipients its rule names now
  doctor       Check identities, permissions, .sops.yaml, drift, unreadable files
  status       Who can open what: recipients, your identity, drift, last change per key

Verify:
  verify       Find plaintext secrets, incomplete sops files, drift (--staged, --all, --history)
  hook         Install the pre-commit hook (spx verify --staged)

Log:
  log          The rotation log; `log verify` checks it, `log stale` lists what is due

Sync:
  sync         Regenerate VPS .env files (SSH) and GitHub secrets from the sops files; --check

Git:
  git          `spx git setup`: readable diffs and key-by-key merges of sops files
  diff         Show a sops file key by key, values masked (git textconv driver)
  merge        Three-way merge of sops files (git merge driver); --resolve FILE
  merge-log    Merge rotation logs appended on both branches (git merge driver)

Shell:
  completions  Shell completions (bash, zsh, fish, elvish, powershell)
  man          The man page

Options:
{options}{after-help}
";

#[derive(Parser, Debug)]
#[command(
    name = "spx",
    version,
    about = "Secrets in git, done right: a fast, sops-compatible editor, verifier and sync for age-encrypted files",
    after_help = "Run `spx FILE` to edit a file, as with sops. Files stay readable and writable by sops 3.11.\nEach command has examples in `spx COMMAND --help`; the operator guide is docs/secrets-management.md.",
    help_template = HELP_TEMPLATE
)]
pub struct Cli {
    /// Use this .sops.yaml instead of searching from the current directory
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Say more about what is done (never values)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Show only errors, warnings and what was asked for: no progress, notes or "updated" lines
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Colour output: auto (a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = crate::ui::ColorChoice::Auto)]
    pub color: crate::ui::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a plaintext file for the recipients of its creation rule (or --age)
    Encrypt(EncryptArgs),
    /// Decrypt a sops file to stdout (or a file)
    Decrypt(DecryptArgs),
    /// Open a decrypted copy in $EDITOR and re-encrypt it on save
    Edit(EditArgs),
    /// Set one value (JSON) at a path, e.g. '["smtp"]["password"]'
    Set(SetArgs),
    /// Remove the key or list item at a path
    Unset(UnsetArgs),
    /// Generate a new data key and re-encrypt every value; add or remove recipients
    Rotate(RotateArgs),
    /// Re-wrap the data key of each file for the recipients its creation rule names now
    Updatekeys(UpdatekeysArgs),
    /// Run a command with the secrets in its environment
    ExecEnv(ExecEnvArgs),
    /// Run a command with the secrets in a private temporary file ({} is its path)
    ExecFile(ExecFileArgs),
    /// Tell whether a file is sops-encrypted: {"encrypted":true|false}
    Filestatus(FilestatusArgs),
    /// Create a new age identity and print its public key
    Keygen(KeygenArgs),
    /// Set up a repository: identity, .sops.yaml, secrets/shared.sops.yaml, hook, log, .gitignore
    Init(InitArgs),
    /// List, add or remove named recipients (onboarding and offboarding)
    Recipients(RecipientsArgs),
    /// Check identities, permissions, .sops.yaml, recipient drift and unreadable files
    Doctor(DoctorArgs),
    /// Who can open what: recipients (named), your identity, drift, last change of each key
    Status(StatusArgs),
    /// Read the rotation log; `log verify` checks it, `log stale` lists secrets due for rotation
    Log(LogArgs),
    /// Check files for plaintext secrets, incomplete sops files and recipient drift (pre-commit)
    Verify(VerifyArgs),
    /// Install the pre-commit hook that runs `spx verify --staged`
    Hook(HookArgs),
    /// Show a sops file key by key with values masked (git textconv driver)
    Diff(DiffArgs),
    /// Three-way merge of sops files (git merge driver); --resolve FILE for conflicts
    Merge(MergeArgs),
    /// Merge rotation logs appended on both sides (git merge driver)
    MergeLog(MergeLogArgs),
    /// Git integration: `spx git setup` installs the diff and merge drivers
    Git(GitArgs),
    /// Regenerate .env files over SSH and GitHub Actions secrets from the sops files
    Sync(SyncArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    Man(ManArgs),
}

/// Names of the subcommands (for `spx FILE` = `spx edit FILE`).
pub const SUBCOMMANDS: &[&str] = &[
    "encrypt",
    "decrypt",
    "edit",
    "set",
    "unset",
    "rotate",
    "updatekeys",
    "exec-env",
    "exec-file",
    "filestatus",
    "keygen",
    "init",
    "recipients",
    "doctor",
    "status",
    "log",
    "verify",
    "hook",
    "completions",
    "man",
    "diff",
    "merge",
    "merge-log",
    "git",
    "sync",
    "help",
];
