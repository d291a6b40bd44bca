//! The Python stand-in for the GitHub API (tests/helpers/fake_github.py), shared by the sync
//! tests and the operator guide's test. Loopback only.
#![allow(dead_code)]

use super::common::tool;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The Python stand-in for the GitHub API.
pub struct FakeGitHub {
    child: Child,
    port: u16,
}

impl FakeGitHub {
    pub fn start() -> FakeGitHub {
        let py = tool("python3");
        let o = Command::new(&py)
            .args(["-c", "import nacl.public"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "PyNaCl is not installed: run `bash scripts/test.sh`, which installs it"
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/fake_github.py");
        let mut child = Command::new(py)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("fake GitHub did not start: {line:?}"))
            .parse()
            .unwrap();
        FakeGitHub { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn state(&self) -> serde_json::Value {
        let mut r = ureq::get(&format!("{}/_state", self.url())).call().unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    }

    pub fn fail(&self, rule: serde_json::Value) {
        ureq::post(&format!("{}/_fail", self.url()))
            .header("Content-Type", "application/json")
            .send(rule.to_string())
            .unwrap();
    }

    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.state()["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["method"] == method && e["path"].as_str().unwrap().contains(path_contains)
            })
            .count()
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
