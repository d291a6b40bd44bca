//! A sops file in memory: load → recover the data key → decrypt (MAC checked) → documents;
//! documents → encrypt (reusing the ciphertext of unchanged values) → MAC → bytes.
//!
//! The walk mirrors sops's `walkBranch`/`walkSlice` exactly (see the format reference §1–§3):
//! AAD is the path of mapping keys, list indices add nothing, comments use their container's
//! path, and the comment-regex rules look at the stack of "active" comments.

use crate::crypt::{self, DataKey, Mac};
use crate::error::{Error, Result};
use crate::keys::{Identities, Recipient};
use crate::metadata::{self, AgeKey, KeyGroup, Metadata, Selection};
use crate::shamir;
use crate::store::{self, EmitOptions, Format};
use crate::tree::{Document, Map, MapItem, Timestamp, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// (path, type, plaintext) → IV of values seen when decrypting, so that re-encrypting an
/// unchanged value reproduces its exact ciphertext. Keyed by a digest: no plaintext is kept.
#[derive(Default)]
pub struct IvCache(HashMap<[u8; 32], [u8; 32]>);

impl IvCache {
    fn key(aad: &[u8], typ: &str, plaintext: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((aad.len() as u64).to_le_bytes());
        h.update(aad);
        h.update((typ.len() as u64).to_le_bytes());
        h.update(typ.as_bytes());
        h.update(plaintext);
        h.finalize().into()
    }

    fn insert(&mut self, aad: &[u8], typ: &str, plaintext: &[u8], iv: [u8; 32]) {
        self.0.insert(Self::key(aad, typ, plaintext), iv);
    }

    fn get(&self, aad: &[u8], typ: &str, plaintext: &[u8]) -> Option<[u8; 32]> {
        self.0.get(&Self::key(aad, typ, plaintext)).copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the walker does at each leaf.
enum Mode<'a> {
    Encrypt { cache: Option<&'a IvCache> },
    Decrypt { cache: Option<&'a mut IvCache> },
}

struct Walker<'a> {
    key: crypt::Cipher,
    selection: Selection,
    mac_only_encrypted: bool,
    mac: Mac,
    mode: Mode<'a>,
    file: &'a str,
}

fn aad_of(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

impl Walker<'_> {
    fn should_encrypt(&self, path: &[String], comments: &[Vec<String>], is_comment: bool) -> bool {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(b) = self.selection.encrypts_path(&refs) {
            return b;
        }
        match &self.selection {
            Selection::UnencryptedCommentRegex(r) => {
                !comments.iter().flatten().any(|c| r.is_match(c))
            }
            Selection::EncryptedCommentRegex(r) => {
                let last = comments.len().saturating_sub(1);
                let last_len = comments.last().map(Vec::len).unwrap_or(0);
                comments.iter().enumerate().any(|(i, cs)| {
                    cs.iter().enumerate().any(|(j, c)| {
                        !(is_comment && i == last && j + 1 == last_len) && r.is_match(c)
                    })
                })
            }
            _ => true,
        }
    }

    fn walk_map(
        &mut self,
        map: &mut Map,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<()> {
        comments.push(Vec::new());
        for item in map.items.iter_mut() {
            match item {
                MapItem::Comment(text) => {
                    comments.last_mut().unwrap().push(text.clone());
                    let enc = self.should_encrypt(path, comments, true);
                    if let Some(new) = self.comment(text, path, enc)? {
                        *text = new;
                    }
                }
                MapItem::Pair(k, v) => {
                    path.push(k.clone());
                    self.walk_value(v, path, comments)?;
                    path.pop();
                    comments.last_mut().unwrap().clear();
                }
            }
        }
        comments.pop();
        Ok(())
    }

    fn walk_list(
        &mut self,
        list: &mut [Value],
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<()> {
        comments.push(Vec::new());
        for item in list.iter_mut() {
            let is_comment = matches!(item, Value::Comment(_));
            if let Value::Comment(c) = item {
                comments.last_mut().unwrap().push(c.clone());
            }
            self.walk_value(item, path, comments)?;
            if !is_comment {
                comments.last_mut().unwrap().clear();
            }
        }
        comments.pop();
        Ok(())
    }

    fn walk_value(
        &mut self,
        v: &mut Value,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<()> {
        match v {
            Value::Map(m) => self.walk_map(m, path, comments),
            Value::List(l) => self.walk_list(l, path, comments),
            Value::Comment(text) => {
                // A comment inside a list: encrypted, sops writes it as a plain `ENC[…]` item.
                let enc = self.should_encrypt(path, comments, true);
                if let Some(new) = self.comment(text, path, enc)? {
                    *v = match self.mode {
                        Mode::Encrypt { .. } => Value::Str(new),
                        Mode::Decrypt { .. } => Value::Comment(new),
                    };
                }
                Ok(())
            }
            _ => {
                let enc = self.should_encrypt(path, comments, false);
                self.leaf(v, path, enc)
            }
        }
    }

    /// Encrypt or decrypt a comment's text; `None` leaves it as it is.
    fn comment(&mut self, text: &str, path: &[String], enc: bool) -> Result<Option<String>> {
        if !enc || text.is_empty() {
            return Ok(None);
        }
        let aad = aad_of(path);
        match &mut self.mode {
            Mode::Encrypt { cache } => {
                let iv = cache
                    .and_then(|c| c.get(aad.as_bytes(), "comment", text.as_bytes()))
                    .unwrap_or_else(crypt::random_iv);
                Ok(Some(self.key.encrypt(
                    text.as_bytes(),
                    &iv,
                    aad.as_bytes(),
                    "comment",
                )))
            }
            Mode::Decrypt { cache } => match self.key.decrypt(text, aad.as_bytes()) {
                Ok((pt, _typ, iv)) => {
                    let s = String::from_utf8_lossy(&pt).to_string();
                    if let (Some(c), Some(iv)) = (cache, iv) {
                        c.insert(aad.as_bytes(), "comment", s.as_bytes(), iv);
                    }
                    Ok(Some(s))
                }
                // sops keeps a comment it cannot decrypt (files from old sops versions).
                Err(_) => Ok(None),
            },
        }
    }

    fn leaf(&mut self, v: &mut Value, path: &[String], enc: bool) -> Result<()> {
        match &mut self.mode {
            Mode::Encrypt { cache } => {
                let cache = *cache;
                if !self.mac_only_encrypted || enc {
                    self.mac.update(&v.plaintext_bytes());
                }
                if !enc || matches!(v, Value::Null) || matches!(v, Value::Str(s) if s.is_empty()) {
                    return Ok(());
                }
                let aad = aad_of(path);
                let pt = zeroize::Zeroizing::new(v.plaintext_bytes());
                let typ = v.type_name();
                let iv = cache
                    .and_then(|c| c.get(aad.as_bytes(), typ, &pt))
                    .unwrap_or_else(crypt::random_iv);
                *v = Value::Str(self.key.encrypt(&pt, &iv, aad.as_bytes(), typ));
                Ok(())
            }
            Mode::Decrypt { .. } => {
                if enc {
                    self.decrypt_leaf(v, path)?;
                }
                if matches!(v, Value::Comment(_)) {
                    return Ok(());
                }
                if !self.mac_only_encrypted || enc {
                    self.mac.update(&v.plaintext_bytes());
                }
                Ok(())
            }
        }
    }

    fn decrypt_leaf(&mut self, v: &mut Value, path: &[String]) -> Result<()> {
        let enc_text = match v {
            Value::Null => return Ok(()),
            Value::Str(s) if s.is_empty() => return Ok(()),
            Value::Str(s) => s.clone(),
            other => {
                return Err(self.value_error(
                    path,
                    format!(
                        "expected an ENC[…] string, found a plaintext {}",
                        other.type_name()
                    ),
                ));
            }
        };
        let aad = aad_of(path);
        let (pt, typ, iv) = self
            .key
            .decrypt(&enc_text, aad.as_bytes())
            .map_err(|e| self.value_error(path, e.to_string()))?;
        let new = parse_typed(&pt, &typ).map_err(|e| self.value_error(path, e))?;
        if let (Mode::Decrypt { cache: Some(c) }, Some(iv)) = (&mut self.mode, iv) {
            let t = if typ == "bytes" { "str" } else { typ.as_str() };
            c.insert(aad.as_bytes(), t, &new.plaintext_bytes(), iv);
        }
        *v = new;
        Ok(())
    }

    fn value_error(&self, path: &[String], msg: String) -> Error {
        Error::DecryptValue {
            file: self.file.into(),
            path: crate::path::display_path(path),
            msg,
        }
    }
}

/// Turn decrypted bytes back into a typed value (sops's `type:` label).
fn parse_typed(pt: &[u8], typ: &str) -> std::result::Result<Value, String> {
    let text = || std::str::from_utf8(pt).map_err(|_| format!("{typ} value is not UTF-8"));
    Ok(match typ {
        "str" => match std::str::from_utf8(pt) {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => Value::Bytes(pt.to_vec()),
        },
        "bytes" => match std::str::from_utf8(pt) {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => Value::Bytes(pt.to_vec()),
        },
        "int" => Value::Int(
            text()?
                .parse()
                .map_err(|_| "int value does not parse".to_string())?,
        ),
        "float" => Value::Float(parse_go_float(text()?).ok_or("float value does not parse")?),
        "bool" => Value::Bool(match text()? {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err("bool value does not parse".into()),
        }),
        "time" => {
            let t = text()?;
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| "time value does not parse".to_string())?;
            Value::Time(Timestamp(t.to_string()))
        }
        "comment" => Value::Comment(text()?.to_string()),
        other => return Err(format!("unknown value type {other:?}")),
    })
}

fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Encrypt plaintext documents in place; returns the MAC (hex) of the plaintext.
pub fn encrypt_docs(
    docs: &mut [Document],
    key: &DataKey,
    md: &Metadata,
    cache: Option<&IvCache>,
    file: &str,
) -> Result<String> {
    let mut w = Walker {
        key: crypt::Cipher::new(key),
        selection: md.effective_selection(),
        mac_only_encrypted: md.mac_only_encrypted,
        mac: Mac::new(md.mac_only_encrypted),
        mode: Mode::Encrypt { cache },
        file,
    };
    for d in docs.iter_mut() {
        w.walk_map(d, &mut Vec::new(), &mut Vec::new())?;
    }
    Ok(w.mac.finish())
}

/// Decrypt documents in place; returns the MAC (hex) computed over the plaintext.
pub fn decrypt_docs(
    docs: &mut [Document],
    key: &DataKey,
    md: &Metadata,
    cache: Option<&mut IvCache>,
    file: &str,
) -> Result<String> {
    let mut w = Walker {
        key: crypt::Cipher::new(key),
        selection: md.effective_selection(),
        mac_only_encrypted: md.mac_only_encrypted,
        mac: Mac::new(md.mac_only_encrypted),
        mode: Mode::Decrypt { cache },
        file,
    };
    for d in docs.iter_mut() {
        w.walk_map(d, &mut Vec::new(), &mut Vec::new())?;
    }
    Ok(w.mac.finish())
}

/// Compute the MAC of plaintext documents without encrypting them.
pub fn compute_mac(docs: &[Document], key: &DataKey, md: &Metadata, file: &str) -> Result<String> {
    let mut copy = docs.to_vec();
    encrypt_docs(&mut copy, key, md, None, file)
}

/// Encrypt the MAC hex with `lastmodified` (re-formatted) as AAD.
pub fn encrypt_mac(
    key: &DataKey,
    mac_hex: &str,
    lastmodified: &str,
    previous: Option<&str>,
) -> Result<String> {
    let aad = metadata::mac_aad(lastmodified).map_err(Error::Other)?;
    // Keep the old MAC ciphertext when nothing about it changed (same MAC, same time).
    if let Some(prev) = previous {
        if let Ok((pt, _, _)) = crypt::decrypt(key, prev, aad.as_bytes()) {
            if &pt[..] == mac_hex.as_bytes() {
                return Ok(prev.to_string());
            }
        }
    }
    Ok(crypt::encrypt(
        key,
        mac_hex.as_bytes(),
        &crypt::random_iv(),
        aad.as_bytes(),
        "str",
    ))
}

/// Check the stored MAC against the computed one (sops: exit 51 on any problem).
pub fn verify_mac(key: &DataKey, md: &Metadata, computed: &str, file: &str) -> Result<()> {
    let err = |msg: String| Error::Mac {
        file: file.into(),
        msg,
    };
    if md.mac.is_empty() {
        return Err(err(format!(
            "MAC mismatch: the file has no MAC (computed {}…)",
            &computed[..16]
        )));
    }
    let aad = metadata::mac_aad(&md.lastmodified).map_err(&err)?;
    let (pt, _, _) = crypt::decrypt(key, &md.mac, aad.as_bytes())
        .map_err(|e| err(format!("cannot decrypt the MAC: {e}")))?;
    if &pt[..] != computed.as_bytes() {
        return Err(err(
            "MAC mismatch: the values do not match the file's MAC".into()
        ));
    }
    Ok(())
}

/// Recover the data key from the metadata with the given identities.
/// Every other entry of the group addressed to one of our own public keys must open to the same
/// key. Two entries for one recipient that disagree (or one that does not open) mean the `sops:`
/// block was edited by hand: an entry added or altered to make us use a key someone else chose.
/// Costs nothing in the usual case: only entries naming our own keys are opened again.
fn check_own_entries_agree(
    g: &crate::metadata::KeyGroup,
    used: usize,
    key: &[u8],
    ids: &Identities,
    file: &str,
) -> Result<()> {
    for (i, k) in g.age.iter().enumerate() {
        if i == used || !ids.public_keys.iter().any(|p| p == &k.recipient) {
            continue;
        }
        let same = match ids.unwrap(&k.enc) {
            Ok(other) => other[..] == key[..],
            Err(_) => false,
        };
        if !same {
            return Err(Error::BadMetadata {
                file: file.into(),
                msg: format!(
                    "two entries for recipient {} hold different data keys: the sops block was edited by hand (a recipient added or altered); restore it from git and run `spx updatekeys`",
                    crate::keys::short(&k.recipient)
                ),
            });
        }
    }
    Ok(())
}

pub fn recover_data_key(md: &Metadata, ids: &Identities, file: &str) -> Result<DataKey> {
    let multi = md.groups.len() >= 2;
    let mut shares: Vec<zeroize::Zeroizing<Vec<u8>>> = Vec::new();
    // Why the data key could not be unwrapped, beyond "no identity matched" (one line).
    let mut problems: Vec<String> = Vec::new();
    for (gi, g) in md.groups.iter().enumerate() {
        let mut ok = None;
        let mut lines = Vec::new();
        for (ki, k) in g.age.iter().enumerate() {
            match ids.unwrap(&k.enc) {
                Ok(pt) => {
                    check_own_entries_agree(g, ki, &pt, ids, file)?;
                    ok = Some(pt);
                    break;
                }
                Err(e) => lines.push(format!("{}: {e}", crate::keys::short(&k.recipient))),
            }
        }
        if g.age.is_empty() {
            lines.push(format!("key group {gi} has no age recipients"));
        }
        match ok {
            Some(pt) => {
                if !multi {
                    return DataKey::from_slice(&pt).ok_or_else(|| Error::BadMetadata {
                        file: file.into(),
                        msg: format!("the data key unwrapped to {} bytes instead of 32: the `enc` block was forged or corrupted", pt.len()),
                    });
                }
                shares.push(pt);
            }
            None => problems.extend(lines.into_iter().filter(|l| {
                !l.ends_with(": no identity matched") && !l.ends_with(": no identities found")
            })),
        }
    }
    if multi {
        let need = if md.shamir_threshold == 0 {
            2
        } else {
            md.shamir_threshold
        };
        if shares.len() >= need {
            let refs: Vec<&[u8]> = shares.iter().map(|s| &s[..]).collect();
            let key = shamir::combine(&refs).map_err(|e| Error::BadMetadata {
                file: file.into(),
                msg: format!("cannot combine the Shamir shares: {e}"),
            })?;
            return DataKey::from_slice(&key).ok_or_else(|| Error::BadMetadata {
                file: file.into(),
                msg: format!(
                    "the Shamir shares combine to {} bytes instead of 32",
                    key.len()
                ),
            });
        }
        problems.insert(
            0,
            format!(
                "the file needs {need} of its {} key groups; only {} could be opened",
                md.groups.len(),
                shares.len()
            ),
        );
    }
    let names = recipient_names(file);
    let recipients = md
        .all_recipients()
        .iter()
        .map(|r| match names.iter().find(|(_, k)| k == r) {
            Some((n, _)) => format!("{} ({n})", crate::keys::short(r)),
            None => crate::keys::short(r),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut detail = problems;
    detail.push(format!(
        "identities looked for in: {}",
        ids.describe_sources_inline()
    ));
    Err(Error::NoIdentity {
        file: file.into(),
        recipients: if recipients.is_empty() {
            "no age recipient".into()
        } else {
            recipients
        },
        detail: detail.join("; ").replace('\n', " "),
    })
}

/// The names .sops.yaml gives recipients (`spx: recipients:`, anchors, comments), found from
/// the file's directory upwards; empty when there is no readable .sops.yaml.
fn recipient_names(file: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let Ok(cwd) = std::env::current_dir() else {
        return Vec::new();
    };
    let Ok(Some(config)) = crate::config::Config::discover(&cwd.join(dir)) else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(config.path()).unwrap_or_default();
    crate::sopsyaml_edit::all_names(&text, &config)
}

/// Wrap the data key for recipient groups (one group: the whole key; several: Shamir shares).
pub fn wrap_data_key(
    key: &DataKey,
    groups: &[Vec<String>],
    threshold: usize,
) -> Result<(Vec<KeyGroup>, usize)> {
    if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
        return Err(Error::Recipient(
            "cannot encrypt: a key group has no recipients; name at least one age1… key in every key group of the creation rule (or pass --age)".into(),
        ));
    }
    // Parse every recipient first so a typo fails before any work.
    let parsed: Vec<Vec<(String, Recipient)>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| Recipient::parse(r).map(|p| (r.trim().to_string(), p)))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let (payloads, threshold) = if groups.len() == 1 {
        (vec![zeroize::Zeroizing::new(key.as_bytes().to_vec())], 0)
    } else {
        let t = if threshold == 0 {
            groups.len()
        } else {
            threshold
        };
        let shares = shamir::split(key.as_bytes(), groups.len(), t)
            .map_err(|e| Error::Config(format!("cannot split the data key into Shamir shares: {e}; check shamir_threshold against the number of key groups in the creation rule")))?;
        (shares, t)
    };
    let mut out = Vec::new();
    for (g, payload) in parsed.iter().zip(payloads.iter()) {
        let mut kg = KeyGroup::default();
        for (text, r) in g {
            kg.age.push(AgeKey {
                recipient: text.clone(),
                enc: r.wrap(payload)?,
            });
        }
        out.push(kg);
    }
    Ok((out, threshold))
}

/// A loaded sops file: its encrypted documents and its metadata.
pub struct SopsFile {
    pub format: Format,
    pub docs: Vec<Document>,
    pub metadata: Metadata,
}

impl SopsFile {
    pub fn parse(bytes: &[u8], format: Format, file: &str) -> Result<SopsFile> {
        let mut docs = store::load_encrypted(format, bytes, file).map_err(|e| match e {
            Error::EmptyDocument { .. } => Error::NotSops { file: file.into() },
            other => other,
        })?;
        let md = store::split_metadata(format, &mut docs)
            .ok_or_else(|| Error::NotSops { file: file.into() })?;
        let metadata = Metadata::from_value(&md, file)?;
        Ok(SopsFile {
            format,
            docs,
            metadata,
        })
    }

    /// Decrypt, consuming the encrypted documents (no second copy of a large tree): returns the
    /// plaintext documents and the data key; `self.docs` is left empty.
    pub fn decrypt_in_place(
        &mut self,
        ids: &Identities,
        ignore_mac: bool,
        cache: Option<&mut IvCache>,
        file: &str,
    ) -> Result<(Vec<Document>, DataKey)> {
        let key = recover_data_key(&self.metadata, ids, file)?;
        let mut docs = std::mem::take(&mut self.docs);
        let computed = decrypt_docs(&mut docs, &key, &self.metadata, cache, file)?;
        if !ignore_mac {
            verify_mac(&key, &self.metadata, &computed, file)?;
        }
        Ok((docs, key))
    }

    /// Decrypt: returns the plaintext documents and the data key.
    pub fn decrypt(
        &self,
        ids: &Identities,
        ignore_mac: bool,
        cache: Option<&mut IvCache>,
        file: &str,
    ) -> Result<(Vec<Document>, DataKey)> {
        let key = recover_data_key(&self.metadata, ids, file)?;
        let mut docs = self.docs.clone();
        let computed = decrypt_docs(&mut docs, &key, &self.metadata, cache, file)?;
        if !ignore_mac {
            verify_mac(&key, &self.metadata, &computed, file)?;
        }
        Ok((docs, key))
    }

    /// Emit with fresh metadata.
    /// Emit, consuming the file (no copy of a large tree).
    pub fn into_bytes(self, opts: &EmitOptions, file: &str) -> Result<Vec<u8>> {
        let md = self.metadata.to_value(self.format);
        store::emit_encrypted(self.format, self.docs, md, opts, file)
    }

    pub fn emit(&self, opts: &EmitOptions, file: &str) -> Result<Vec<u8>> {
        store::emit_encrypted(
            self.format,
            self.docs.clone(),
            self.metadata.to_value(self.format),
            opts,
            file,
        )
    }
}

/// Encrypt plaintext documents into a sops file: values, MAC, `lastmodified` now.
pub fn seal(
    mut docs: Vec<Document>,
    key: &DataKey,
    mut md: Metadata,
    cache: Option<&IvCache>,
    previous_mac: Option<&str>,
    format: Format,
    file: &str,
) -> Result<SopsFile> {
    md.lastmodified = metadata::now_lastmodified();
    let mac = encrypt_docs(&mut docs, key, &md, cache, file).map_err(|e| match e {
        Error::DecryptValue { file, msg, .. } => Error::EncryptTree { file, msg },
        other => other,
    })?;
    md.mac = encrypt_mac(key, &mac, &md.lastmodified, previous_mac)?;
    Ok(SopsFile {
        format,
        docs,
        metadata: md,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(sel: Selection) -> Metadata {
        Metadata {
            groups: vec![KeyGroup {
                age: vec![AgeKey {
                    recipient: "age1x".into(),
                    enc: String::new(),
                }],
                other: vec![],
            }],
            shamir_threshold: 0,
            key_groups_layout: false,
            lastmodified: "2026-11-22T17:18:46Z".into(),
            mac: String::new(),
            selection: Some(sel),
            mac_only_encrypted: false,
            version: metadata::SOPS_VERSION.into(),
        }
    }

    fn sample() -> Document {
        let mut inner = Map::new();
        inner.items.push(MapItem::Comment(" smtp relay".into()));
        inner.push("password", Value::str("hunter2"));
        inner.push("port", Value::Int(587));
        let mut m = Map::new();
        m.items.push(MapItem::Comment(" top".into()));
        m.push("smtp", Value::Map(inner));
        m.push(
            "hosts",
            Value::List(vec![
                Value::str("a"),
                Value::Comment(" c".into()),
                Value::Float(1.5),
            ]),
        );
        m.push("empty", Value::str(""));
        m.push("nothing", Value::Null);
        m.push("flag", Value::Bool(true));
        m.push("public_unencrypted", Value::str("visible"));
        m
    }

    #[test]
    fn encrypt_then_decrypt_is_identity_and_macs_agree() {
        let key = DataKey::generate();
        let md = md(Selection::default_rule());
        let plain = vec![sample()];
        let mut docs = plain.clone();
        let mac1 = encrypt_docs(&mut docs, &key, &md, None, "f").unwrap();
        let enc = &docs[0];
        assert!(enc
            .get("flag")
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with("type:bool]"));
        assert_eq!(enc.get("empty"), Some(&Value::str("")));
        assert_eq!(enc.get("nothing"), Some(&Value::Null));
        assert_eq!(enc.get("public_unencrypted"), Some(&Value::str("visible")));
        // The comment in the list becomes an ENC string item, as sops writes it.
        match enc.get("hosts").unwrap() {
            Value::List(l) => assert!(l[1].as_str().unwrap().ends_with("type:comment]")),
            _ => panic!(),
        }
        let mut cache = IvCache::default();
        let mac2 = decrypt_docs(&mut docs, &key, &md, Some(&mut cache), "f").unwrap();
        assert_eq!(mac1, mac2);
        assert_eq!(docs, plain);
        // Re-encrypting with the cache reproduces the exact ciphertext.
        let mut again = plain.clone();
        encrypt_docs(&mut again, &key, &md, Some(&cache), "f").unwrap();
        let mut first = plain.clone();
        let mut c2 = IvCache::default();
        let mut enc2 = again.clone();
        decrypt_docs(&mut enc2, &key, &md, Some(&mut c2), "f").unwrap();
        encrypt_docs(&mut first, &key, &md, Some(&c2), "f").unwrap();
        assert_eq!(first, again);
    }

    #[test]
    fn mac_hashes_values_only_in_order() {
        let key = DataKey::generate();
        let md = md(Selection::default_rule());
        let mac = compute_mac(&[sample()], &key, &md, "f").unwrap();
        let mut m = Mac::new(false);
        for s in ["hunter2", "587", "a", "1.5", "", "True", "visible"] {
            m.update(s.as_bytes());
        }
        assert_eq!(mac, m.finish());
    }

    #[test]
    fn moved_value_fails_with_path_in_error() {
        let key = DataKey::generate();
        let md = md(Selection::default_rule());
        let mut docs = vec![sample()];
        encrypt_docs(&mut docs, &key, &md, None, "f").unwrap();
        let pw = docs[0]
            .get("smtp")
            .unwrap()
            .as_map()
            .unwrap()
            .get("password")
            .unwrap()
            .clone();
        docs[0].insert("flag", pw);
        let e = decrypt_docs(&mut docs, &key, &md, None, "f").unwrap_err();
        assert_eq!(e.exit_code(), 25);
        assert!(e.to_string().contains("flag"), "{e}");
    }

    #[test]
    fn encrypted_comment_regex_matches_sops_semantics() {
        let key = DataKey::generate();
        let md = md(Selection::from_field("encrypted_comment_regex", "sops:enc").unwrap());
        let mut m = Map::new();
        m.push("public", Value::str("a"));
        m.items.push(MapItem::Comment(" sops:enc".into()));
        m.push("secret", Value::str("b"));
        m.push("after", Value::str("c"));
        let mut docs = vec![m];
        encrypt_docs(&mut docs, &key, &md, None, "f").unwrap();
        assert_eq!(docs[0].get("public"), Some(&Value::str("a")));
        assert!(crypt::is_enc(
            docs[0].get("secret").unwrap().as_str().unwrap()
        ));
        assert_eq!(docs[0].get("after"), Some(&Value::str("c")));
        assert_eq!(docs[0].items[1], MapItem::Comment(" sops:enc".into()));
    }

    #[test]
    fn shamir_groups_wrap_and_recover() {
        let (s1, p1) = crate::keys::generate();
        let (s2, p2) = crate::keys::generate();
        let (_s3, p3) = crate::keys::generate();
        let key = DataKey::generate();
        let (groups, t) = wrap_data_key(&key, &[vec![p1], vec![p2], vec![p3]], 2).unwrap();
        assert_eq!(t, 2);
        let mut m = md(Selection::default_rule());
        m.groups = groups;
        m.shamir_threshold = 2;
        let both = Identities::from_text(&format!("{}\n{}\n", *s1, *s2)).unwrap();
        assert_eq!(recover_data_key(&m, &both, "f").unwrap(), key);
        let one = Identities::from_text(&s1).unwrap();
        let e = recover_data_key(&m, &one, "f").unwrap_err();
        assert_eq!(e.exit_code(), 128);
        assert!(e.to_string().contains("needs 2 of its 3"), "{e}");
    }

    #[test]
    fn typed_plaintext_parsing() {
        assert_eq!(parse_typed(b"True", "bool").unwrap(), Value::Bool(true));
        assert_eq!(parse_typed(b"-3", "int").unwrap(), Value::Int(-3));
        assert_eq!(
            parse_typed(b"10000000000", "float").unwrap(),
            Value::Float(1e10)
        );
        assert_eq!(
            parse_typed(b"+Inf", "float").unwrap(),
            Value::Float(f64::INFINITY)
        );
        assert!(parse_typed(b"x", "weird").is_err());
    }
}
