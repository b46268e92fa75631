//! What a block's index entry says about its lines, taken from each line
//! while it is compressed: the top-level `timestamp`, `level`,
//! `event_name`, `event_type` and id values, without building a value.
//!
//! ```text
//! line ─ fields() ─▶ Fields { timestamp, level, … }   strict JSON subset, checked whole
//!          └ None: outside the subset (damaged, foreign, an escape in a key, …)
//!                    ─▶ the block is "unknown": readers must inflate it
//! ```
//!
//! Why strict: a reader skips a block on what this says, so a line it
//! accepts must be one every JSON parser reads the same way, with the same
//! last-wins top-level values. Anything it cannot vouch for (invalid UTF-8,
//! an exponent, a surrogate escape, a raw control byte, deep nesting, a
//! blank line) makes the block unknown rather than wrong.

#![deny(clippy::indexing_slicing)]

/// Deeper than this, a line is not vouched for.
const MAX_DEPTH: usize = 64;
/// Longer numbers are not vouched for (a parser may refuse them).
const MAX_NUMBER: usize = 300;

/// One top-level value as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Val<'a> {
    /// The key is not there, or holds something other than a string: no
    /// reader sees a string there.
    #[default]
    None,
    /// A string without escapes.
    Str(&'a str),
    /// A string with escapes: its text is not known here.
    Escaped,
}

/// The values a block's entry records, of one line (the last of each key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    pub(crate) timestamp: Val<'a>,
    pub(crate) level: Val<'a>,
    pub(crate) event_name: Val<'a>,
    pub(crate) event_type: Val<'a>,
    /// [`crate::blocks::ID_KEYS`], in order.
    pub(crate) ids: [Val<'a>; 4],
}

/// The fields of a line (without its `\n`; a final `\r` is dropped), or
/// `None` if the line is outside the subset this vouches for.
pub(crate) fn fields(line: &[u8]) -> Option<Fields<'_>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line).ok()?;
    let b = text.as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut p = Cursor { b, i: 1 };
    let mut f = Fields::default();
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            let (key, escaped) = p.string()?;
            // A key with escapes may decode to one of ours.
            if escaped {
                return None;
            }
            p.ws();
            p.expect(b':')?;
            p.ws();
            let start = p.i;
            let is_str = p.peek() == Some(b'"');
            p.value(1)?;
            let val = if is_str {
                let inner = text.get(start + 1..p.i - 1)?;
                if inner.contains('\\') {
                    Val::Escaped
                } else {
                    Val::Str(inner)
                }
            } else {
                Val::None
            };
            let key = text.get(key.0..key.1)?;
            let slot = match key {
                "timestamp" => Some(&mut f.timestamp),
                "level" => Some(&mut f.level),
                "event_name" => Some(&mut f.event_name),
                "event_type" => Some(&mut f.event_type),
                "trace_id" => f.ids.get_mut(0),
                "request_id" => f.ids.get_mut(1),
                "correlation_id" => f.ids.get_mut(2),
                "session_id" => f.ids.get_mut(3),
                _ => None,
            };
            if let Some(slot) = slot {
                *slot = val;
            }
            p.ws();
            match p.next() {
                Some(b',') => p.ws(),
                Some(b'}') => break,
                _ => return None,
            }
        }
    }
    // Nothing after the object: the line must be exactly one value.
    (p.i == b.len()).then_some(f)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
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

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next() == Some(c)).then_some(())
    }

    /// A string; the range of its content and whether it holds escapes.
    fn string(&mut self) -> Option<((usize, usize), bool)> {
        self.expect(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let c = self.next()?;
            match c {
                b'"' => return Some(((start, self.i - 1), escaped)),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4)?;
                            let s = std::str::from_utf8(hex).ok()?;
                            let code = u16::from_str_radix(s, 16).ok()?;
                            // Surrogates: a lone one is refused by some
                            // parsers; pairs are not worth vouching for.
                            if !hex.iter().all(u8::is_ascii_hexdigit)
                                || (0xD800..=0xDFFF).contains(&code)
                            {
                                return None;
                            }
                            self.i += 4;
                        }
                        _ => return None,
                    }
                }
                0..0x20 => return None,
                _ => {}
            }
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - from
    }

    /// A number without an exponent (one can overflow, which a parser may refuse).
    fn number(&mut self) -> Option<()> {
        let from = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E' | b'0'..=b'9')) || self.i - from > MAX_NUMBER {
            return None;
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.expect(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.value(depth)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, every field in range, as seconds and
/// nanoseconds since the Unix epoch; `None` for any other form (a reader
/// may still parse it, so the block's time range becomes unknown).
///
/// The same as `eventlog::parse_envelope_timestamp`, kept here because
/// this crate does not depend on the layer (it is a writer for any
/// `tracing` stack); a test below checks the two agree on any text.
pub(crate) fn utc(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        b.get(from..from + len)?.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.last() != Some(&b'Z')
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let nanos = match b.get(19..b.len() - 1)? {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            num(20, frac.len())? * 10i64.pow(9 - u32::try_from(frac.len()).ok()?)
        }
        _ => return None,
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second,
        u32::try_from(nanos).ok()?,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_last_top_level_string_of_each_key_is_taken() {
        let f = fields(
            br#"{"timestamp":"2026-11-25T08:47:36.123456Z","level":"INFO","event_name":"a","metadata":{"level":"ERROR","event_name":"x"},"event_name":"b","event_type":7,"trace_id":"t1","request_id":"r\"1"}"#,
        )
        .unwrap();
        assert_eq!(f.timestamp, Val::Str("2026-11-25T08:47:36.123456Z"));
        assert_eq!(f.level, Val::Str("INFO"));
        assert_eq!(f.event_name, Val::Str("b"));
        assert_eq!(f.event_type, Val::None);
        assert_eq!(f.ids[0], Val::Str("t1"));
        assert_eq!(f.ids[1], Val::Escaped);
        assert_eq!(f.ids[2], Val::None);
    }

    #[test]
    fn lines_outside_the_subset_are_not_vouched_for() {
        for bad in [
            &b""[..],
            b" ",
            b" {}",
            b"{} x",
            b"[1]",
            b"{\"a\":1e5}",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"ev\\u0065nt_name\":\"x\"}",
            b"{\"a\":\xff}",
            b"{\"a\":tru}",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"{\"a\":[1,]}",
            b"{\"a\":",
        ] {
            assert_eq!(fields(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(70), "]".repeat(70));
        assert_eq!(fields(deep.as_bytes()), None);
        assert!(fields(b"{}\r").is_some());
        assert!(fields(b"{ \"a\" : [ 1 , {\"b\":null} ] , \"c\":-0.5 }").is_some());
        assert!(fields("{\"a\":\"\\u00e9 é \\n\"}".as_bytes()).is_some());
    }

    proptest::proptest! {
        /// The layer's own parser (a dev-dependency here) and this copy
        /// agree on any text, timestamps and near-misses alike.
        #[test]
        fn utc_agrees_with_the_layers_parser(
            t in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?Z|\\PC{0,30}",
        ) {
            proptest::prop_assert_eq!(utc(&t), eventlog::parse_envelope_timestamp(&t));
        }
    }

    #[test]
    fn utc_is_the_strict_form_only() {
        assert_eq!(utc("1970-01-01T00:00:01.5Z"), Some((1, 500_000_000)));
        assert_eq!(
            utc("2026-11-25T08:47:36.123Z"),
            Some((1_795_596_456, 123_000_000))
        );
        for bad in [
            "2026-11-25T08:47:36+00:00",
            "2025-02-29T00:00:00Z",
            "2026-11-25T08:47:60Z",
            "2026-11-25 08:47:36Z",
            "2026-11-25T08:47:36.Z",
        ] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Any bytes: fields or not, never a panic; and whatever it accepts,
        /// serde_json reads as an object with the same last string values.
        #[test]
        fn what_it_accepts_a_json_parser_reads_the_same(
            line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            text in r#"\{("(level|event_name|trace_id|x)":("[a-z\\"]{0,3}"|[0-9]|\{\}|null),?){0,4}\}"#,
        ) {
            let _ = fields(&line);
            if let Some(f) = fields(text.as_bytes()) {
                let v: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&text).unwrap();
                for (key, got) in [("level", f.level), ("event_name", f.event_name), ("trace_id", f.ids[0])] {
                    let want = v.get(key).and_then(|v| v.as_str());
                    match got {
                        Val::Str(s) => proptest::prop_assert_eq!(Some(s), want),
                        Val::None => proptest::prop_assert_eq!(None, want),
                        Val::Escaped => proptest::prop_assert!(want.is_some()),
                    }
                }
            }
        }
    }
}
