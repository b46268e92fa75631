//! A borrowed, lazy view of one JSON line: the top-level keys found, their
//! values kept as slices of the line, nothing decoded until a query asks.
//!
//! ```text
//! line ─ Scanner::scan ─▶ LazyRecord { (key, Raw) … }  ─ lookup(path) ─▶ Raw ─ as_text / as_f64
//!          │ anything it cannot vouch for
//!          └▶ Fallback: the line goes to the full parser (ParsedRecord)
//! ```
//!
//! Why it exists: parsing every line into a `serde_json::Value` is most
//! of what a query costs (issue 18). The scanner still checks the whole
//! line's grammar, so a line is a record here exactly when the full
//! parser would call it one; whatever it cannot vouch for with certainty
//! (a backslash escape, an exponent, deep nesting, a non-object) it hands
//! back, and the caller parses the line in full. Answers never differ.

use std::borrow::Cow;

/// Deeper than this, the full parser decides (its own limit is 128).
const MAX_DEPTH: usize = 64;

/// The line needs the full parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// What kind of value a slice holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A string without escapes: the slice is its content, quotes left out.
    Str,
    Num,
    True,
    False,
    Null,
    Object,
    Array,
}

/// One value, borrowed from the line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    kind: Kind,
    text: &'a str,
}

/// A top-level key and its value, as byte ranges of the line.
#[derive(Debug, Clone, Copy)]
struct Pair {
    key: (usize, usize),
    kind: Kind,
    value: (usize, usize),
}

/// Scans lines, reusing its buffer of pairs from line to line.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    pairs: Vec<Pair>,
}

/// One line's top-level keys and values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LazyRecord<'a> {
    line: &'a str,
    pairs: &'a [Pair],
}

impl Scanner {
    /// The line's top-level pairs, if it is a JSON object the scanner can
    /// vouch for.
    pub(crate) fn scan<'a>(&'a mut self, line: &'a str) -> Result<LazyRecord<'a>, Fallback> {
        self.pairs.clear();
        let b = line.as_bytes();
        // One pass over the line first: with no backslash (an escape the
        // full parser decodes, or invalid JSON) and no control byte (a tab
        // between tokens, or one inside a string the full parser refuses),
        // a string ends at its next quote.
        let (backslash, control) = classify(b);
        if backslash {
            return Err(Fallback);
        }
        let mut p = Cursor {
            b,
            i: 0,
            plain: !control,
        };
        p.ws();
        if p.peek() != Some(b'{') {
            return Err(Fallback);
        }
        p.i += 1;
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
        } else {
            loop {
                let key = p.string()?;
                p.ws();
                p.expect(b':')?;
                p.ws();
                let (kind, value) = p.any_value(1)?;
                self.pairs.push(Pair { key, kind, value });
                p.ws();
                match p.next() {
                    Some(b',') => p.ws(),
                    Some(b'}') => break,
                    _ => return Err(Fallback),
                }
            }
        }
        p.ws();
        if p.i != b.len() {
            return Err(Fallback);
        }
        Ok(LazyRecord {
            line,
            pairs: &self.pairs,
        })
    }
}

/// A position in the line.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// No backslash and no control byte in the line (or a slice of a line
    /// already checked): a string ends at its next quote.
    plain: bool,
}

/// Whether `c` ends a run of plain string content: `"`, `\` or a control byte.
fn stops_string(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is `"`, `\` or below 0x20 (SWAR, 8 at a time).
fn has_stop(w: u64) -> bool {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    (zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) | below_space) != 0
}

/// One pass over the line: whether it holds a backslash, and whether it
/// holds a control byte. Written without an early exit so the compiler
/// turns it into vector compares (16 bytes a step on any x86-64).
fn classify(b: &[u8]) -> (bool, bool) {
    let (mut backslash, mut control) = (0u8, 0u8);
    for &c in b {
        backslash |= u8::from(c == b'\\');
        control |= u8::from(c < 0x20);
    }
    (backslash != 0, control != 0)
}

/// The first `"` in `bytes`, 8 bytes at a time: strings are short, and
/// this beats a call to memchr's vector loop on them. Always inlined, as
/// [`Cursor::string`] is (a call per string costs as much as the search).
#[inline(always)]
#[allow(clippy::inline_always)]
fn find_quote(bytes: &[u8]) -> Option<usize> {
    let mut off = 0;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'"'));
        // The lowest flagged byte is exact (a borrow only flags bytes above it).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(off + (zero.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"')
        .map(|i| off + i)
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    #[inline]
    fn ws(&mut self) {
        // Compact JSON (what the layer writes) has none: one compare.
        while let Some(&c) = self.b.get(self.i) {
            if c > b' ' || !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return;
            }
            self.i += 1;
        }
    }

    /// A value, with a string (most values) scanned here rather than
    /// through a call to [`Self::value`].
    #[inline]
    fn any_value(&mut self, depth: usize) -> Result<(Kind, (usize, usize)), Fallback> {
        if self.peek() == Some(b'"') {
            Ok((Kind::Str, self.string()?))
        } else {
            self.value(depth)
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Fallback> {
        if self.next() == Some(c) {
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// A string without escapes; its content's range. The plain case is
    /// inlined into every caller (a call cost as much as the search: ~40
    /// strings a line, issue 18); the rest is out of line. `always`: with
    /// a plain `inline` the compiler kept a call in the value paths
    /// (callgrind, `query --by event_name` on 54 k lines: 320 M → 310 M).
    #[inline(always)]
    #[allow(clippy::inline_always)]
    fn string(&mut self) -> Result<(usize, usize), Fallback> {
        self.expect(b'"')?;
        let start = self.i;
        if self.plain {
            let rest = self.b.get(start..).ok_or(Fallback)?;
            let end = find_quote(rest).ok_or(Fallback)?;
            self.i = start + end + 1;
            return Ok((start, start + end));
        }
        self.string_checked(start)
    }

    /// [`Self::string`] in a line with control bytes: each byte checked.
    #[inline(never)]
    fn string_checked(&mut self, start: usize) -> Result<(usize, usize), Fallback> {
        let rest = self.b.get(start..).ok_or(Fallback)?;
        let mut off = 0;
        let mut words = rest.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            if has_stop(u64::from_le_bytes(word)) {
                break;
            }
            off += 8;
        }
        for &c in rest.get(off..).ok_or(Fallback)? {
            if stops_string(c) {
                if c == b'"' {
                    self.i = start + off + 1;
                    return Ok((start, start + off));
                }
                // An escape (the full parser decodes it) or a raw control
                // character (the full parser refuses it).
                return Err(Fallback);
            }
            off += 1;
        }
        Err(Fallback)
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - from
    }

    /// A number in JSON's grammar, without an exponent (an exponent can
    /// overflow, which the full parser refuses) and at most 300 bytes long.
    fn number(&mut self) -> Result<(), Fallback> {
        let from = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Fallback),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Fallback);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E' | b'0'..=b'9')) || self.i - from > 300 {
            return Err(Fallback);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Fallback> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// Any value, checked; its kind and range (a string's without quotes).
    fn value(&mut self, depth: usize) -> Result<(Kind, (usize, usize)), Fallback> {
        let start = self.i;
        let kind = match self.peek().ok_or(Fallback)? {
            b'"' => return Ok((Kind::Str, self.string()?)),
            b'{' => {
                self.object(depth + 1)?;
                Kind::Object
            }
            b'[' => {
                self.array(depth + 1)?;
                Kind::Array
            }
            b't' => {
                self.literal(b"true")?;
                Kind::True
            }
            b'f' => {
                self.literal(b"false")?;
                Kind::False
            }
            b'n' => {
                self.literal(b"null")?;
                Kind::Null
            }
            _ => {
                self.number()?;
                Kind::Num
            }
        };
        Ok((kind, (start, self.i)))
    }

    fn object(&mut self, depth: usize) -> Result<(), Fallback> {
        if depth > MAX_DEPTH {
            return Err(Fallback);
        }
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            self.any_value(depth)?;
            self.ws();
            match self.next() {
                Some(b',') => self.ws(),
                Some(b'}') => return Ok(()),
                _ => return Err(Fallback),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), Fallback> {
        if depth > MAX_DEPTH {
            return Err(Fallback);
        }
        self.expect(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.ws();
            match self.next() {
                Some(b',') => self.ws(),
                Some(b']') => return Ok(()),
                _ => return Err(Fallback),
            }
        }
    }
}

impl<'a> LazyRecord<'a> {
    fn slice(&self, (from, to): (usize, usize)) -> &'a str {
        self.line.get(from..to).unwrap_or_default()
    }

    /// The value of top-level `key` (the last one, as the full parser keeps).
    pub(crate) fn get(&self, key: &str) -> Option<Raw<'a>> {
        let line = self.line.as_bytes();
        self.pairs
            .iter()
            .rev()
            .find(|p| same_key(line, p.key, key.as_bytes()))
            .map(|p| Raw {
                kind: p.kind,
                text: self.slice(p.value),
            })
    }

    /// Top-level `key`'s value if it is a string.
    pub(crate) fn str_of(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Raw::as_str)
    }
}

/// Whether a key found in the line is `want`: the length and the first
/// byte first, so most keys are told apart without a `memcmp` call (a
/// report looks up about 15 keys in each of millions of lines).
#[inline]
fn same_key(line: &[u8], (from, to): (usize, usize), want: &[u8]) -> bool {
    to.wrapping_sub(from) == want.len()
        && line.get(from) == want.first()
        && line.get(from..to) == Some(want)
}

/// The value of the last `key` in an object value (already checked by
/// the scan), walked in place.
fn object_get<'a>(text: &'a str, key: &str) -> Option<Raw<'a>> {
    // The line was scanned: no backslash in it, so a string ends at its next quote.
    let mut p = Cursor {
        b: text.as_bytes(),
        i: 0,
        plain: true,
    };
    let slice = |(from, to): (usize, usize)| text.get(from..to).unwrap_or_default();
    p.expect(b'{').ok()?;
    p.ws();
    if p.peek() == Some(b'}') {
        return None;
    }
    let mut found = None;
    loop {
        let Ok(k) = p.string() else { return found };
        p.ws();
        if p.expect(b':').is_err() {
            return found;
        }
        p.ws();
        let Ok((kind, value)) = p.value(1) else {
            return found;
        };
        if same_key(text.as_bytes(), k, key.as_bytes()) {
            found = Some(Raw {
                kind,
                text: slice(value),
            });
        }
        p.ws();
        match p.next() {
            Some(b',') => p.ws(),
            _ => return found,
        }
    }
}

impl<'a> Raw<'a> {
    /// The value's JSON text, as in the line (a string's without quotes).
    pub(crate) fn raw_text(self) -> &'a str {
        self.text
    }

    pub(crate) fn as_str(self) -> Option<&'a str> {
        (self.kind == Kind::Str).then_some(self.text)
    }

    pub(crate) fn is_object(self) -> bool {
        self.kind == Kind::Object
    }

    /// The value of `key` in this object (the last one).
    pub(crate) fn get(self, key: &str) -> Option<Raw<'a>> {
        if self.kind != Kind::Object {
            return None;
        }
        object_get(self.text, key)
    }

    /// As a query compares it: the same text `view::as_text` gives for
    /// the parsed value (strings as they are, the rest as serde_json
    /// writes them, so `72.50` is `72.5`).
    pub(crate) fn as_text(self) -> Cow<'a, str> {
        match self.kind {
            Kind::Str => Cow::Borrowed(self.text),
            Kind::True => Cow::Borrowed("true"),
            Kind::False => Cow::Borrowed("false"),
            Kind::Null => Cow::Borrowed("null"),
            // An integer serde_json keeps as i64 or u64 is written as it is.
            Kind::Num if is_plain_integer(self.text) => Cow::Borrowed(self.text),
            _ => Cow::Owned(
                serde_json::from_str::<serde_json::Value>(self.text)
                    .map_or_else(|_| self.text.to_owned(), |v| v.to_string()),
            ),
        }
    }

    /// A number's value, as the full parser reads it.
    pub(crate) fn as_f64(self) -> Option<f64> {
        if self.kind != Kind::Num {
            return None;
        }
        if fast_float(self.text) {
            // Up to 15 digits, no exponent: the correctly rounded parse,
            // which serde_json's own (one division by an exact power of
            // ten of an exact integer) agrees with.
            return self.text.parse().ok();
        }
        serde_json::from_str::<f64>(self.text).ok()
    }

    /// The value parsed in full, for the few places that need one.
    pub(crate) fn to_value(self) -> serde_json::Value {
        match self.kind {
            Kind::Str => serde_json::Value::String(self.text.to_owned()),
            _ => serde_json::from_str(self.text).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// `0`, `-12`, `123`: at most 18 digits (fits i64), not `-0`.
fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|c| c.is_ascii_digit())
        && text != "-0"
}

/// At most 15 significant digits and no exponent.
fn fast_float(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    digits <= 15 && !text.bytes().any(|c| c == b'e' || c == b'E')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The scan accepts a line only if serde_json does, and then finds the
    /// same top-level values.
    fn agrees(line: &str) {
        let mut s = Scanner::default();
        let full = serde_json::from_str::<Value>(line);
        if let Ok(rec) = s.scan(line) {
            let Ok(Value::Object(map)) = full else {
                panic!("scanned a line serde_json refuses: {line:?}");
            };
            for (k, v) in &map {
                let raw = rec.get(k).unwrap();
                assert_eq!(raw.to_value(), *v, "{line:?} {k}");
                // `view::as_text` of the parsed value (not imported: `view` uses this module).
                let want = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(raw.as_text(), want, "{line:?} {k}");
                assert_eq!(raw.as_f64(), v.as_f64(), "{line:?} {k}");
            }
        }
    }

    #[test]
    fn scans_what_the_full_parser_reads_and_nothing_else() {
        for line in [
            r#"{"a":"b","n":1,"f":72.50,"t":true,"x":null,"o":{"k":[1,{"z":"y"}]},"e":[]}"#,
            r#"  { "a" : "é" , "a" : 2 }  "#,
            "{}",
            r#"{"a":-0,"b":-0.0,"c":12345678901234567890,"d":0.1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e5}"#,
            r#"{"a":"x\"y"}"#,
            "{\"a\":\"x\ty\"}",
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            "[1]",
            r#"{"a" 1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b":}}"#,
            r#"{"a":"unterminated}"#,
            "",
            "{",
        ] {
            agrees(line);
        }
        let mut s = Scanner::default();
        assert!(s.scan(r#"{"a":"x\"y"}"#).is_err());
        let rec = s.scan(r#"{"m":{"d":1.50,"r":"t"}}"#).unwrap();
        let m = rec.get("m").unwrap();
        assert_eq!(m.get("d").unwrap().as_text(), "1.5");
        assert_eq!(m.get("r").unwrap().as_str(), Some("t"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any text, JSON-shaped or not: the scan never panics and never
        /// accepts what serde_json refuses or reads it differently.
        #[test]
        fn any_text_scans_as_serde_json_reads_it(
            line in "[{}\\[\\]\",:0-9a-z .eE+\\-\\\\\t]{0,40}|\\PC{0,20}|\\{\"[a-z]{1,3}\":(-?[0-9]{1,20}(\\.[0-9]{1,5})?|\"\\PC{0,5}\"|true|null|\\[[0-9,]{0,6}\\])\\}",
        ) {
            agrees(&line);
        }
    }
}
