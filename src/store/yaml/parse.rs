//! YAML text -> documents, with yaml.v3's scalar typing and sops's placement of comments.
//!
//! saphyr-parser gives the structure (events with positions). Comments are not events, so we
//! find them in the source text outside scalars, then assign each one to a container the way
//! yaml.v3's scanner/parser attach head/line/foot comments and sops's store flattens them:
//! * a comment on the line of the previous token is a line comment: it goes right before the
//!   item that token belongs to (`key: v # c` → `# c` above `key`);
//! * full-line comments between two tokens are split into foot groups (comments of the
//!   previous content) and a head group (of the next token) with yaml.v3's rules (a blank line
//!   right after the first comments, or a change of column while dedenting, ends a foot), and
//!   each foot group lands at the end of the block whose end token it attaches to.

use super::scalar::{parse_timestamp, resolve, Resolved};
use crate::error::{Error, Result};
use crate::tree::{Document, Map, MapItem, Timestamp, Value};
use base64::Engine;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// A position: (line, column), both 0-based, column in chars.
type Pos = (usize, usize);

fn pos_of(m: &saphyr_parser::Marker) -> Pos {
    (m.line().saturating_sub(1), m.col())
}

#[derive(Debug)]
struct CommentLine {
    line: usize,
    col: usize,
    text: String,
}

/// Find every comment in `src` outside the spans of scalars (`covered`: sorted char ranges).
fn find_comments(src: &str, covered: &[(usize, usize)]) -> Vec<CommentLine> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut ci = 0usize; // char index
    let mut line = 0usize;
    let mut col = 0usize;
    let mut prev_ws = true;
    let mut cov = 0usize;
    let mut bi = 0usize;
    while bi < bytes.len() {
        let c = bytes[bi];
        if c & 0xC0 == 0x80 {
            // UTF-8 continuation byte: same char.
            bi += 1;
            continue;
        }
        if c == b'\n' {
            line += 1;
            col = 0;
            ci += 1;
            bi += 1;
            prev_ws = true;
            continue;
        }
        if c == b'#' && prev_ws {
            while cov < covered.len() && covered[cov].1 <= ci {
                cov += 1;
            }
            let inside = cov < covered.len() && covered[cov].0 <= ci;
            if !inside {
                let rest = &src[bi + 1..];
                let end = rest.find('\n').unwrap_or(rest.len());
                let text = &rest[..end];
                let text = text.strip_suffix('\r').unwrap_or(text);
                out.push(CommentLine {
                    line,
                    col,
                    text: text.to_string(),
                });
                let n = rest[..end].chars().count();
                ci += 1 + n;
                col += 1 + n;
                bi += 1 + end;
                prev_ws = false;
                continue;
            }
        }
        prev_ws = c == b' ' || c == b'\t' || c == b'\r';
        ci += 1;
        col += 1;
        bi += 1;
    }
    out
}

#[derive(Debug)]
enum Kind {
    Map {
        items: Vec<MapItem>,
        pending_key: Option<String>,
        keys: HashMap<String, usize>,
    },
    Seq {
        items: Vec<Value>,
    },
}

#[derive(Debug)]
struct Frame {
    id: usize,
    kind: Kind,
    /// Indentation column of a block collection that opens an indentation level (yaml.v3's
    /// parser.indent); None for flow collections and indentless sequences.
    block_indent: Option<usize>,
    flow: bool,
    /// Where the item being read starts in `items` (line comments are inserted there).
    item_start: usize,
    anchor: usize,
    /// Foot comments attached to this block's end token; placed when the block is attached
    /// to its parent (after its last item for a mapping; after the block itself, in the
    /// parent, for a sequence, as yaml.v3 moves a sequence's foot to its key or item).
    foot: Vec<String>,
}

impl Frame {
    fn push_comment(&mut self, text: String) {
        match &mut self.kind {
            Kind::Map { items, .. } => items.push(MapItem::Comment(text)),
            Kind::Seq { items } => items.push(Value::Comment(text)),
        }
    }
    fn insert_comment_at_item_start(&mut self, text: String) {
        let at = self.item_start;
        match &mut self.kind {
            Kind::Map { items, .. } => items.insert(at.min(items.len()), MapItem::Comment(text)),
            Kind::Seq { items } => items.insert(at.min(items.len()), Value::Comment(text)),
        }
        self.item_start += 1;
    }
    fn into_value(self) -> Value {
        match self.kind {
            Kind::Map { items, .. } => Value::Map(Map { items }),
            Kind::Seq { items } => Value::List(items),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum PrevKind {
    /// Start of a document (nothing read yet).
    Start,
    /// A mapping key whose value has not started.
    Key,
    /// A value (scalar, alias, flow collection end).
    Content,
}

#[derive(Clone, Copy, Debug)]
struct Prev {
    kind: PrevKind,
    start: Pos,
    end: Pos,
    /// The frame that holds the item this token belongs to.
    frame: Option<usize>,
}

/// What comes after a gap of comments.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Next {
    /// A collection start (a new frame).
    Collection(Pos),
    /// A scalar or alias.
    Scalar(Pos),
    /// End of the document (`---` of the next one or end of input): column -1.
    End(Option<Pos>),
}

impl Next {
    fn pos(&self) -> Option<Pos> {
        match self {
            Next::Collection(p) | Next::Scalar(p) => Some(*p),
            Next::End(p) => *p,
        }
    }
}

struct Group {
    head: bool,
    token_mark: Pos,
    start: Pos,
    end: Pos,
    scan: Pos,
    lines: Vec<String>,
}

struct Builder {
    comments: Vec<CommentLine>,
    ci: usize,
    stack: Vec<Frame>,
    closing: Vec<Frame>,
    next_id: usize,
    prev: Prev,
    anchors: HashMap<usize, Value>,
    /// Comments waiting for the next frame to be created (head comments of a collection).
    pending_head: Vec<String>,
    /// Root value when the document is not a collection.
    root: Option<Value>,
    deferred: Vec<String>,
}

fn perr(file: &str, msg: impl Into<String>) -> Error {
    Error::parse(file, msg)
}

impl Builder {
    fn new(comments: Vec<CommentLine>) -> Self {
        Builder {
            comments,
            ci: 0,
            stack: Vec::new(),
            closing: Vec::new(),
            next_id: 0,
            prev: Prev {
                kind: PrevKind::Start,
                start: (0, 0),
                end: (0, 0),
                frame: None,
            },
            anchors: HashMap::new(),
            pending_head: Vec::new(),
            root: None,
            deferred: Vec::new(),
        }
    }

    fn frame_mut(&mut self, id: usize) -> Option<&mut Frame> {
        if let Some(f) = self.closing.iter_mut().find(|f| f.id == id) {
            return Some(f);
        }
        self.stack.iter_mut().find(|f| f.id == id)
    }

    /// Queue head comments for the next token; placed by `flush_deferred` once the closed
    /// blocks are attached to their parents.
    fn place_head(&mut self, texts: Vec<String>, _next: Next) {
        self.deferred.extend(texts);
    }

    /// Put the queued head comments where the next token's item goes.
    fn flush_deferred(&mut self, next: Next) {
        let texts = std::mem::take(&mut self.deferred);
        if texts.is_empty() {
            return;
        }
        match next {
            Next::End(_) => {
                // Foot of the document: the end of the root mapping.
                self.pending_head.extend(texts);
            }
            Next::Collection(_) | Next::Scalar(_) => {
                let into_new = match self.stack.last() {
                    None => true,
                    Some(Frame {
                        kind: Kind::Map { pending_key, .. },
                        ..
                    }) => pending_key.is_some() && matches!(next, Next::Collection(_)),
                    Some(Frame {
                        kind: Kind::Seq { .. },
                        ..
                    }) => false,
                };
                if into_new {
                    self.pending_head.extend(texts);
                } else if let Some(f) = self.stack.last_mut() {
                    for t in texts {
                        f.push_comment(t);
                    }
                }
            }
        }
    }

    /// Handle the comments between the previous token and `next`.
    fn gap(&mut self, next: Next) {
        let limit = next.pos();
        let start_ci = self.ci;
        while self.ci < self.comments.len() {
            let c = &self.comments[self.ci];
            match limit {
                Some(p) if (c.line, c.col) >= p => break,
                _ => self.ci += 1,
            }
        }
        if start_ci == self.ci {
            return;
        }
        let mut lines: Vec<CommentLine> = Vec::new();
        for c in &mut self.comments[start_ci..self.ci] {
            lines.push(CommentLine {
                line: c.line,
                col: c.col,
                text: std::mem::take(&mut c.text),
            });
        }
        let prev = self.prev;
        // Line comment on the previous token's line.
        if prev.kind != PrevKind::Start && lines[0].line == prev.end.0 {
            let lc = lines.remove(0);
            let target = prev.frame;
            match target.and_then(|id| self.frame_mut(id)) {
                Some(f) => f.insert_comment_at_item_start(lc.text),
                None => self.pending_head.push(lc.text),
            }
        }
        if lines.is_empty() {
            return;
        }
        if prev.kind != PrevKind::Content {
            let texts = lines.into_iter().map(|c| c.text).collect();
            self.place_head(texts, next);
            return;
        }
        // yaml.v3 scan_comments.
        let next_indent = self
            .closing
            .iter()
            .chain(self.stack.iter().rev())
            .find_map(|f| if f.flow { None } else { f.block_indent })
            .unwrap_or(0);
        let foot_line = prev.end.0 + 1;
        let mut groups: Vec<Group> = Vec::new();
        let mut text: Vec<String> = Vec::new();
        let mut start: Pos = (0, 0);
        let mut token_mark = prev.start;
        let mut scan = prev.end;
        let mut first_empty = lines[0].line <= prev.end.0 + 1;
        let mut recent_empty = false;
        let mut li = 0usize;
        let mut line = prev.end.0 + 1;
        let last_line = match limit {
            Some(p) => p.0,
            None => lines.last().map(|c| c.line + 1).unwrap_or(line),
        };
        while line <= last_line {
            let is_comment = li < lines.len() && lines[li].line == line;
            let at_end = line == last_line && !is_comment;
            if at_end {
                match limit {
                    Some(p) => {
                        // The next token's line.
                        if !text.is_empty() && p.1 < next_indent && p.1 != start.1 {
                            groups.push(Group {
                                head: false,
                                token_mark,
                                start,
                                end: p,
                                scan,
                                lines: std::mem::take(&mut text),
                            });
                            scan = p;
                        }
                    }
                    None => {
                        // End of input: behaves like a final line break.
                        if !recent_empty
                            && first_empty
                            && !text.is_empty()
                            && (start.0 == foot_line || start.1 < next_indent)
                        {
                            if start.1 < next_indent {
                                token_mark = start;
                            }
                            groups.push(Group {
                                head: false,
                                token_mark,
                                start,
                                end: (line, 0),
                                scan,
                                lines: std::mem::take(&mut text),
                            });
                            scan = (line, 0);
                        }
                    }
                }
                break;
            }
            if is_comment {
                let c = &lines[li];
                if !text.is_empty() && c.col < next_indent && c.col != start.1 {
                    let p = (c.line, c.col);
                    groups.push(Group {
                        head: false,
                        token_mark,
                        start,
                        end: p,
                        scan,
                        lines: std::mem::take(&mut text),
                    });
                    scan = p;
                    token_mark = p;
                }
                if text.is_empty() {
                    start = (c.line, c.col);
                }
                text.push(std::mem::take(&mut lines[li].text));
                recent_empty = false;
                li += 1;
            } else {
                // A blank line (or a line holding only structure).
                if !recent_empty
                    && first_empty
                    && !text.is_empty()
                    && (start.0 == foot_line || start.1 < next_indent)
                {
                    if start.1 < next_indent {
                        token_mark = start;
                    }
                    let p = (line, 0);
                    groups.push(Group {
                        head: false,
                        token_mark,
                        start,
                        end: p,
                        scan,
                        lines: std::mem::take(&mut text),
                    });
                    scan = p;
                    token_mark = p;
                }
                first_empty = false;
                recent_empty = true;
            }
            line += 1;
        }
        if !text.is_empty() {
            groups.push(Group {
                head: true,
                token_mark: start,
                start,
                end: limit.unwrap_or((last_line, 0)),
                scan,
                lines: text,
            });
        }
        // Targets in token order: the previous token, then block ends; otherwise the next token.
        enum Target {
            Prev,
            BlockEnd(usize),
        }
        let mut targets: Vec<(Pos, Target)> = vec![(prev.start, Target::Prev)];
        let mut block_mark = prev.end;
        for f in self.closing.iter() {
            let Some(indent) = (if f.flow { None } else { f.block_indent }) else {
                continue;
            };
            let mut stop = block_mark;
            for g in groups.iter().rev() {
                if g.end < stop {
                    break;
                }
                if g.start.1 == indent {
                    block_mark = g.start;
                }
                stop = g.scan;
            }
            targets.push((block_mark, Target::BlockEnd(f.id)));
        }
        let mut ti = 0usize;
        for g in groups {
            loop {
                if ti >= targets.len() {
                    break;
                }
                let (mark, ref t) = targets[ti];
                let ok = mark >= g.token_mark && !(g.head && matches!(t, Target::BlockEnd(_)));
                if ok {
                    break;
                }
                ti += 1;
            }
            let (target, is_end) = if ti < targets.len() {
                match targets[ti].1 {
                    Target::Prev => (prev.frame, false),
                    Target::BlockEnd(id) => (Some(id), true),
                }
            } else {
                (None, false)
            };
            if is_end {
                if let Some(f) = target.and_then(|id| self.frame_mut(id)) {
                    f.foot.extend(g.lines);
                    continue;
                }
            }
            match target.and_then(|id| self.frame_mut(id)) {
                Some(f) => {
                    for t in g.lines {
                        f.push_comment(t);
                    }
                }
                None => self.place_head(g.lines, next),
            }
        }
    }

    /// Attach closed frames to their parents (each to the next closing frame, the last one to
    /// the innermost open frame, or as the document root).
    fn finalize_closing(&mut self) -> Result<()> {
        let mut closing = std::mem::take(&mut self.closing).into_iter().peekable();
        while let Some(mut f) = closing.next() {
            let anchor = f.anchor;
            let mut foot = std::mem::take(&mut f.foot);
            if let Kind::Map { .. } = f.kind {
                for t in foot.drain(..) {
                    f.push_comment(t);
                }
            }
            let v = f.into_value();
            if anchor != 0 {
                self.anchors.insert(anchor, v.clone());
            }
            match closing.peek_mut() {
                Some(parent) => {
                    attach(parent, v);
                    for t in foot {
                        parent.push_comment(t);
                    }
                }
                None => {
                    self.add_value(v);
                    if let Some(parent) = self.stack.last_mut() {
                        for t in foot {
                            parent.push_comment(t);
                        }
                    } else {
                        self.pending_head.extend(foot);
                    }
                }
            }
        }
        Ok(())
    }

    /// Add a finished value to the innermost open frame (or as the root).
    fn add_value(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(v),
            Some(f) => attach(f, v),
        }
    }

    fn new_frame(&mut self, kind: Kind, block_indent: Option<usize>, flow: bool, anchor: usize) {
        let id = self.next_id;
        self.next_id += 1;
        let mut f = Frame {
            id,
            kind,
            block_indent,
            flow,
            item_start: 0,
            anchor,
            foot: Vec::new(),
        };
        for t in std::mem::take(&mut self.pending_head) {
            f.push_comment(t);
        }
        self.stack.push(f);
    }

    /// Before an item starts in the top frame (a key, or a sequence entry).
    fn start_item(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.item_start = match &f.kind {
                Kind::Map { items, .. } => items.len(),
                Kind::Seq { items } => items.len(),
            };
        }
    }

    fn top_is_map_awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: Kind::Map {
                    pending_key: None,
                    ..
                },
                ..
            })
        )
    }
}

fn attach(f: &mut Frame, v: Value) {
    match &mut f.kind {
        Kind::Map {
            items, pending_key, ..
        } => {
            let k = pending_key.take().unwrap_or_default();
            items.push(MapItem::Pair(k, v));
        }
        Kind::Seq { items } => items.push(v),
    }
}

fn key_type_error(file: &str, ty: &str, shown: &str) -> Error {
    Error::EncryptTree {
        file: file.into(),
        msg: format!(
            "the tree contains a non-string key ({ty}): {shown}; only string keys are supported"
        ),
    }
}

/// The value of a scalar event, as yaml.v3 decodes it into `interface{}`.
fn scalar_value(
    file: &str,
    v: &str,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
    line: usize,
) -> Result<Value> {
    if let Some(t) = tag {
        let core = t.handle == "tag:yaml.org,2002:" || t.handle == "!!";
        if core {
            match t.suffix.as_str() {
                "str" => return Ok(Value::Str(v.to_string())),
                "binary" => {
                    let clean: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(clean.as_bytes())
                        .map_err(|e| {
                            perr(
                                file,
                                format!("line {}: invalid !!binary data: {e}", line + 1),
                            )
                        })?;
                    return Ok(match String::from_utf8(bytes) {
                        Ok(s) => Value::Str(s),
                        Err(e) => Value::Bytes(e.into_bytes()),
                    });
                }
                "null" => return Ok(Value::Null),
                "timestamp" => {
                    if let Some(t) = parse_timestamp(v) {
                        return Ok(Value::Time(Timestamp(t)));
                    }
                }
                "int" | "float" | "bool" => {
                    let r = resolve(v);
                    let ok = matches!(
                        (&r, t.suffix.as_str()),
                        (Resolved::Int(_), "int")
                            | (Resolved::Int(_), "float")
                            | (Resolved::Float(_), "float")
                            | (Resolved::Bool(_), "bool")
                    );
                    if !ok {
                        return Err(perr(
                            file,
                            format!("line {}: cannot decode {:?} as !!{}", line + 1, v, t.suffix),
                        ));
                    }
                    return Ok(match r {
                        Resolved::Int(i) if t.suffix == "float" => Value::Float(i as f64),
                        Resolved::Int(i) => Value::Int(i),
                        Resolved::Float(f) => Value::Float(f),
                        Resolved::Bool(b) => Value::Bool(b),
                        _ => unreachable!(),
                    });
                }
                _ => {}
            }
        }
        if style == ScalarStyle::Plain && core && t.suffix == "merge" {
            return Ok(Value::Str(v.to_string()));
        }
        // Any other tag: decoded as the string.
        if style != ScalarStyle::Plain || !core {
            return Ok(Value::Str(v.to_string()));
        }
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(v.to_string()));
    }
    Ok(match resolve(v) {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Int(i),
        Resolved::Uint(_) => {
            return Err(Error::EncryptTree {
                file: file.into(),
                msg: format!(
                    "line {}: integer {v} is too large: values between 2^63 and 2^64-1 cannot be encrypted (sops fails on them too); quote it to keep it as a string",
                    line + 1
                ),
            })
        }
        Resolved::Float(f) => Value::Float(f),
        Resolved::Time(t) => Value::Time(Timestamp(t)),
        Resolved::Merge | Resolved::Str => Value::Str(v.to_string()),
    })
}

/// The text of a key as a string, or the sops error for a non-string key.
fn key_string(file: &str, v: Value, raw: &str) -> Result<String> {
    match v {
        Value::Str(s) => Ok(s),
        Value::Bytes(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(_) => Err(key_type_error(file, "int", raw)),
        Value::Float(_) => Err(key_type_error(file, "float64", raw)),
        Value::Bool(_) => Err(key_type_error(file, "bool", raw)),
        Value::Null => Err(key_type_error(file, "<nil>", raw)),
        Value::Time(_) => Err(key_type_error(file, "time.Time", raw)),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => Err(key_type_error(
            file,
            "map or list",
            "(collection used as a key)",
        )),
    }
}

/// Column of the `-` that starts a block sequence whose start event is at `p`.
/// The column of the `-` that introduces the sequence item starting at `p` (strictly left of
/// `p`, across spaces), or `p`'s own column when there is none on that line.
fn item_dash(lines: &[&str], p: Pos) -> usize {
    let Some(l) = lines.get(p.0) else { return p.1 };
    let chars: Vec<char> = l.chars().collect();
    let mut i = p.1.min(chars.len());
    while i > 0 {
        i -= 1;
        match chars[i] {
            '-' => return i,
            ' ' => continue,
            _ => break,
        }
    }
    p.1
}

/// Past a node's properties (`&anchor`, `!tag`), spaces, line ends and comments: where the
/// collection itself starts. `p` unchanged when it is not at a property.
fn after_properties(lines: &[&str], p: Pos) -> Pos {
    let (mut line, mut col) = p;
    let at = |line: usize, col: usize| lines.get(line).and_then(|l| l.chars().nth(col));
    if !matches!(at(line, col), Some('&' | '!')) {
        return p;
    }
    loop {
        match at(line, col) {
            Some('&' | '!') => {
                while at(line, col).is_some_and(|c| c != ' ' && c != '\t') {
                    col += 1;
                }
            }
            Some(' ' | '\t') => col += 1,
            None | Some('#') => {
                if line + 1 >= lines.len() {
                    return p;
                }
                line += 1;
                col = 0;
            }
            Some(_) => return (line, col),
        }
    }
}

fn dash_col(lines: &[&str], p: Pos) -> usize {
    let Some(l) = lines.get(p.0) else { return p.1 };
    let chars: Vec<char> = l.chars().collect();
    if chars.get(p.1) == Some(&'-') {
        return p.1;
    }
    let mut i = p.1.min(chars.len());
    while i > 0 {
        i -= 1;
        if chars[i] == '-' {
            return i;
        }
        if chars[i] != ' ' {
            break;
        }
    }
    p.1
}

fn has_lone_cr(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
}

fn lone_cr_to_lf(s: &str) -> String {
    let b = s.as_bytes();
    let out: Vec<u8> = b
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c == b'\r' && b.get(i + 1) != Some(&b'\n') {
                b'\n'
            } else {
                c
            }
        })
        .collect();
    String::from_utf8(out).expect("ASCII for ASCII keeps UTF-8 valid")
}

pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    if bytes.is_empty() {
        return Err(Error::EmptyDocument { file: file.into() });
    }
    let src = std::str::from_utf8(bytes)
        .map_err(|e| perr(file, format!("the file is not valid UTF-8: {e}")))?;
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    // A lone CR is a line break in YAML (as CRLF and LF are); comments and positions are found
    // by LF, so make it one (same length, same meaning). Fuzzing found a comment holding lone
    // CRs emitted as several lines.
    let normalized;
    let src = if src.contains('\r') && has_lone_cr(src) {
        normalized = lone_cr_to_lf(src);
        normalized.as_str()
    } else {
        src
    };
    let mut events: Vec<(Event, Span)> = Vec::new();
    let mut parser = Parser::new_from_str(src);
    while let Some(r) = parser.next_event() {
        match r {
            Ok(ev) => events.push(ev),
            Err(e) => return Err(perr(file, format!("invalid YAML: {e}"))),
        }
    }
    let mut covered: Vec<(usize, usize)> = events
        .iter()
        .filter(|(e, s)| {
            matches!(e, Event::Scalar(..) | Event::Alias(_)) && s.end.index() > s.start.index()
        })
        .map(|(_, s)| (s.start.index(), s.end.index()))
        .collect();
    covered.sort_unstable();
    let comments = find_comments(src, &covered);
    let src_lines: Vec<&str> = src.split('\n').collect();

    let mut docs: Vec<Document> = Vec::new();
    let mut b = Builder::new(comments);
    let mut i = 0usize;
    while i < events.len() {
        let (ev, span) = &events[i];
        let start = pos_of(&span.start);
        let mut end = pos_of(&span.end);
        if let Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..) = ev {
            // A block scalar's span runs to the indentation of the line after it.
            let only_indent = src_lines
                .get(end.0)
                .map(|l| l.chars().take(end.1).all(|c| c == ' '))
                .unwrap_or(true);
            if end.0 > start.0 && only_indent {
                end = (end.0 - 1, usize::MAX);
            }
        }
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => {}
            Event::DocumentStart(_) => {
                b.stack.clear();
                b.closing.clear();
                b.root = None;
                b.prev = Prev {
                    kind: PrevKind::Start,
                    start,
                    end: start,
                    frame: None,
                };
            }
            Event::DocumentEnd => {
                // The next document's `---`, if any, ends this one's comments.
                let next_pos = events[i + 1..].iter().find_map(|(e, s)| match e {
                    Event::DocumentStart(true) => Some(pos_of(&s.start)),
                    Event::DocumentStart(false) => Some(pos_of(&s.start)),
                    _ => None,
                });
                let next = Next::End(next_pos);
                b.gap(next);
                b.finalize_closing()?;
                b.flush_deferred(next);
                let mut doc = match b.root.take() {
                    Some(Value::Map(m)) => m,
                    Some(Value::List(_)) => {
                            return Err(perr(
                                file,
                                "the document is a sequence: cannot unmarshal !!seq into map[string]interface {} (the top level of a YAML file must be a mapping)",
                            ))
                    }
                    Some(Value::Null) | None => Map::new(),
                    Some(_) => {
                        return Err(perr(
                            file,
                            "the document is a single value: YAML documents that are values are not supported (the top level must be a mapping)",
                        ))
                    }
                };
                if !b.pending_head.is_empty() {
                    for t in std::mem::take(&mut b.pending_head) {
                        doc.items.push(MapItem::Comment(t));
                    }
                }
                docs.push(doc);
            }
            Event::MappingStart(anchor, _tag) | Event::SequenceStart(anchor, _tag) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // An anchored or tagged collection's event starts at its properties (and a
                // block one's span then has a width): what follows them says flow or block,
                // and where a block collection's first `-` or key is.
                // Inside a flow collection everything is flow (`[k: v]` is a one-pair
                // mapping that starts at its key).
                let start = after_properties(&src_lines, start);
                let in_flow = b.stack.last().is_some_and(|f| f.flow);
                let flow = in_flow
                    || src_lines
                        .get(start.0)
                        .and_then(|l| l.chars().nth(start.1))
                        .is_some_and(|c| c == '[' || c == '{');
                // As for scalars: in a block sequence the comments precede the item's `-`.
                let in_block_seq = matches!(
                    b.stack.last(),
                    Some(Frame {
                        kind: Kind::Seq { .. },
                        flow: false,
                        ..
                    })
                );
                let tok = if in_block_seq {
                    (start.0, item_dash(&src_lines, start))
                } else {
                    start
                };
                b.gap(Next::Collection(tok));
                b.finalize_closing()?;
                b.flush_deferred(Next::Collection(start));
                let in_seq = matches!(
                    b.stack.last(),
                    Some(Frame {
                        kind: Kind::Seq { .. },
                        ..
                    })
                );
                if in_seq {
                    b.start_item();
                }
                let (kind, block_indent) = if is_map {
                    (
                        Kind::Map {
                            items: Vec::new(),
                            pending_key: None,
                            keys: HashMap::new(),
                        },
                        if flow { None } else { Some(start.1) },
                    )
                } else {
                    let indent = if flow {
                        None
                    } else {
                        let d = dash_col(&src_lines, start);
                        let parent_indent = b.stack.last().and_then(|f| match f.kind {
                            Kind::Map { .. } if !f.flow => f.block_indent,
                            _ => None,
                        });
                        if parent_indent == Some(d) {
                            None
                        } else {
                            Some(d)
                        }
                    };
                    (Kind::Seq { items: Vec::new() }, indent)
                };
                if b.top_is_map_awaiting_key() {
                    return Err(key_type_error(
                        file,
                        "map or list",
                        "(a collection used as a mapping key)",
                    ));
                }
                b.new_frame(kind, block_indent, flow, *anchor);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let f = b.stack.pop().expect("balanced events");
                if f.flow {
                    b.finalize_closing()?;
                    let id = b.stack.last().map(|p| p.id);
                    let anchor = f.anchor;
                    let v = f.into_value();
                    if anchor != 0 {
                        b.anchors.insert(anchor, v.clone());
                    }
                    b.add_value(v);
                    b.prev = Prev {
                        kind: PrevKind::Content,
                        start,
                        end,
                        frame: id,
                    };
                } else {
                    b.closing.push(f);
                }
            }
            Event::Scalar(v, style, anchor, tag) => {
                let implicit_empty =
                    v.is_empty() && *style == ScalarStyle::Plain && tag.is_none() && *anchor == 0;
                if !implicit_empty {
                    // In a block sequence the token that follows the comments is the item's
                    // `-`, not the scalar after it (yaml.v3 attaches head comments there).
                    let in_block_seq = matches!(
                        b.stack.last(),
                        Some(Frame {
                            kind: Kind::Seq { .. },
                            flow: false,
                            ..
                        })
                    );
                    let tok = if in_block_seq {
                        (start.0, item_dash(&src_lines, start))
                    } else {
                        start
                    };
                    b.gap(Next::Scalar(tok));
                }
                b.finalize_closing()?;
                b.flush_deferred(Next::Scalar(start));
                let value = scalar_value(file, v, *style, tag.as_deref(), start.0)?;
                if *anchor != 0 {
                    b.anchors.insert(*anchor, value.clone());
                }
                if b.top_is_map_awaiting_key() {
                    let key = key_string(file, value, v)?;
                    let raw: &str = v;
                    b.start_item();
                    let f = b.stack.last_mut().expect("map frame");
                    let id = f.id;
                    if let Kind::Map {
                        pending_key, keys, ..
                    } = &mut f.kind
                    {
                        if key != "<<" {
                            if let Some(first) = keys.get(raw) {
                                return Err(perr(
                                    file,
                                    format!(
                                        "line {}: mapping key {:?} already defined at line {}",
                                        start.0 + 1,
                                        raw,
                                        first
                                    ),
                                ));
                            }
                            keys.insert(raw.to_string(), start.0 + 1);
                        }
                        *pending_key = Some(key);
                    }
                    b.prev = Prev {
                        kind: PrevKind::Key,
                        start,
                        end,
                        frame: Some(id),
                    };
                } else {
                    if matches!(
                        b.stack.last(),
                        Some(Frame {
                            kind: Kind::Seq { .. },
                            ..
                        })
                    ) {
                        b.start_item();
                    }
                    let id = b.stack.last().map(|f| f.id);
                    b.add_value(value);
                    if !implicit_empty {
                        b.prev = Prev {
                            kind: PrevKind::Content,
                            start,
                            end,
                            frame: id,
                        };
                    }
                }
            }
            Event::Alias(id) => {
                b.gap(Next::Scalar(start));
                b.finalize_closing()?;
                b.flush_deferred(Next::Scalar(start));
                let value = b
                    .anchors
                    .get(id)
                    .cloned()
                    .ok_or_else(|| perr(file, "unknown anchor referenced"))?;
                if b.top_is_map_awaiting_key() {
                    let key = key_string(file, value, "*alias")?;
                    b.start_item();
                    let f = b.stack.last_mut().expect("map frame");
                    let fid = f.id;
                    if let Kind::Map { pending_key, .. } = &mut f.kind {
                        *pending_key = Some(key);
                    }
                    b.prev = Prev {
                        kind: PrevKind::Key,
                        start,
                        end,
                        frame: Some(fid),
                    };
                } else {
                    if matches!(
                        b.stack.last(),
                        Some(Frame {
                            kind: Kind::Seq { .. },
                            ..
                        })
                    ) {
                        b.start_item();
                    }
                    let fid = b.stack.last().map(|f| f.id);
                    b.add_value(value);
                    b.prev = Prev {
                        kind: PrevKind::Content,
                        start,
                        end,
                        frame: fid,
                    };
                }
            }
        }
        i += 1;
    }
    if docs.is_empty() {
        return Err(perr(
            file,
            "Error unmarshalling file: EOF (the file holds no YAML document, only comments or blank space)",
        ));
    }
    Ok(docs)
}

/// A plain scalar's value, typed exactly as the full parser types it (for the fast path).
pub(super) fn plain_scalar(file: &str, v: &str, line: usize) -> Result<Value> {
    scalar_value(file, v, ScalarStyle::Plain, None, line)
}
