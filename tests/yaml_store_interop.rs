//! The YAML store against the real sops 3.11 binary.
//!
//! For every file of a corpus of awkward YAML: `sops encrypt` then `sops decrypt` it (with a
//! throwaway age key) and require `emit(parse(plain))` to equal sops's decrypted output byte
//! for byte; and require `emit(parse(encrypted))` to reproduce the sops-encrypted file byte for
//! byte (layout of `ENC[…]` values, encrypted comments, metadata block).
//!
//! These tests need `sops` and `age-keygen` on PATH and FAIL when they are missing.

use spx::store::yaml;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/yaml_corpus.rs"]
mod yaml_corpus;
use yaml_corpus::CORPUS;

fn tool(name: &str) -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .expect("run sh");
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && !p.is_empty(),
        "`{name}` is required on PATH for this test (it compares spx with the real tool)"
    );
    PathBuf::from(p)
}

struct Sops {
    sops: PathBuf,
    key_file: PathBuf,
    recipient: String,
    _dir: tempfile::TempDir,
}

impl Sops {
    fn new() -> Sops {
        let sops = tool("sops");
        let keygen = tool("age-keygen");
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key.txt");
        let out = Command::new(keygen)
            .arg("-o")
            .arg(&key_file)
            .output()
            .unwrap();
        assert!(out.status.success(), "age-keygen failed");
        let key = std::fs::read_to_string(&key_file).unwrap();
        let recipient = key
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key line")
            .to_string();
        Sops {
            sops,
            key_file,
            recipient,
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str], path: &Path) -> Result<Vec<u8>, String> {
        let out = Command::new(&self.sops)
            .args(args)
            .arg(path)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .current_dir(path.parent().unwrap())
            .output()
            .unwrap();
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

fn show_diff(name: &str, what: &str, want: &str, got: &str) -> String {
    let mut s = format!("--- {name}: {what} differs\n");
    let wl: Vec<&str> = want.split_inclusive('\n').collect();
    let gl: Vec<&str> = got.split_inclusive('\n').collect();
    for i in 0..wl.len().max(gl.len()) {
        let w = wl.get(i).copied().unwrap_or("<none>\n");
        let g = gl.get(i).copied().unwrap_or("<none>\n");
        if w != g {
            s.push_str(&format!(
                "  line {}:\n    sops: {:?}\n    spx:  {:?}\n",
                i + 1,
                w,
                g
            ));
        }
    }
    s
}

#[test]
fn yaml_corpus_matches_sops_byte_for_byte() {
    let sops = Sops::new();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, text) in CORPUS {
        let plain = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&plain, text).unwrap();
        let enc = match sops.run(&["encrypt", "--age", &sops.recipient], &plain) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{name}: sops encrypt failed: {e}"));
                continue;
            }
        };
        let enc_path = dir.path().join(format!("{name}.enc.yaml"));
        std::fs::write(&enc_path, &enc).unwrap();
        let dec = match sops.run(&["decrypt"], &enc_path) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: sops decrypt failed: {e}"));
                continue;
            }
        };
        let dec = String::from_utf8(dec).unwrap();
        match yaml::parse(text.as_bytes(), name) {
            Ok(docs) => {
                let got = yaml::emit(&docs, 4);
                if got != dec {
                    failures.push(show_diff(
                        name,
                        "emit(parse(plain)) vs sops decrypt",
                        &dec,
                        &got,
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: spx parse of plaintext failed: {e}")),
        }
        let enc = String::from_utf8(enc).unwrap();
        match yaml::parse(enc.as_bytes(), name) {
            Ok(docs) => {
                let got = yaml::emit(&docs, 4);
                if got != enc {
                    failures.push(show_diff(
                        name,
                        "emit(parse(encrypted)) vs sops encrypted file",
                        &enc,
                        &got,
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: spx parse of encrypted file failed: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ from sops:\n{}",
        failures.len(),
        CORPUS.len(),
        failures.join("\n")
    );
}
