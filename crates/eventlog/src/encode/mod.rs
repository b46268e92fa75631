//! Encoding: everything that turns records and spans into JSON bytes.
//!
//! ```text
//! (here)  JsonBuf: escaping, numbers, timestamps, hex ids (the primitives)
//! layout  Layout: Envelope + Deployment pre-encoded; ids, promoted values, span block
//! fields  FieldBuf -> a JSON object (`metadata`, a span's `fields`)
//! span    SpanFields, SpanJson: a span's bytes, encoded once per span
//! record  Encoding (opaque, carried by a Record) and Layout::encode: one record, one line
//! ```
//!
//! The record encoder reads a [`Record`](crate::Record) through the
//! `record::Encodable` trait, which the record implements: the record holds
//! an `Encoding`, so this module cannot import the record back.
//!
//! One escaper, one number writer and one timestamp writer, shared by the
//! line encoder and by span pre-encoding, so a value is escaped the same way
//! wherever it lands. Everything appends to a caller-owned buffer, so the
//! hot path reuses one buffer per thread and allocates nothing.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

pub(crate) mod fields;
pub(crate) mod layout;
pub(crate) mod record;
pub(crate) mod span;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::words::{bytes_below, repeat};

/// Escapes needed per byte: 0 = copy as is, `u` = `\u00XX`, anything else is
/// the character after the backslash. Only control characters, `"` and `\`
/// need escaping in JSON; multi-byte UTF-8 is copied untouched.
// Constant indices into a 256-entry table, checked when the constant is evaluated.
#[allow(clippy::indexing_slicing)]
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Room kept past every reservation, so whole 8-byte words can be stored
/// at the end of a string without a length check per byte.
const SLACK: usize = 16;
/// The first size of a fresh line buffer: a typical envelope fits.
const INITIAL: usize = 1024;

/// A JSON line under construction.
///
/// The buffer is kept at its full length (zero-filled once, when it grows)
/// and written through a position, instead of pushing onto a `Vec`: a
/// string or number then costs one capacity check, and short copies
/// compile to a few word moves instead of a `memcpy` call. Measured with
/// callgrind on the `layer` bench event: about a third fewer instructions
/// for the whole line than pushing onto a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct JsonBuf {
    buf: Vec<u8>,
    pos: usize,
    /// The second of the last timestamp written, and its
    /// `"YYYY-MM-DDTHH:MM:SS` prefix: most lines share one.
    stamp_secs: u64,
    stamp_prefix: [u8; 20],
}

// Every index below lands in room `reserve` made first: `reserve(n)` leaves
// `buf.len() >= pos + n + SLACK`, and each method reserves what it then writes
// (the escaper is property-tested and the line parsed back in debug builds).
#[allow(clippy::indexing_slicing)]
impl JsonBuf {
    /// An empty buffer with room for about `n` bytes (pieces built once
    /// per span, whose size is known roughly in advance).
    pub(crate) fn with_capacity(n: usize) -> Self {
        JsonBuf {
            buf: vec![0; n + SLACK],
            ..JsonBuf::default()
        }
    }

    /// Takes over `out`, writing after its current contents.
    pub(crate) fn append_to(out: Vec<u8>) -> Self {
        let pos = out.len();
        JsonBuf {
            buf: out,
            pos,
            ..JsonBuf::default()
        }
    }

    /// The written bytes, as a `Vec` (the spare room is cut off).
    pub(crate) fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.pos);
        self.buf
    }

    /// What has been written so far.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// Forgets what was written, keeping the buffer.
    pub(crate) fn clear(&mut self) {
        self.pos = 0;
    }

    /// Memory held by the buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Makes room for `n` more bytes (plus [`SLACK`]).
    #[inline]
    fn reserve(&mut self, n: usize) {
        if self.buf.len() - self.pos < n + SLACK {
            self.grow(n);
        }
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        let want = (self.pos + n + SLACK).max(self.buf.len() * 2).max(INITIAL);
        self.buf.resize(want, 0);
    }

    /// Appends one byte.
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.reserve(1);
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    /// Appends bytes as they are (pre-encoded JSON).
    // Measured (callgrind, `layer` bench event): forcing the few hot
    // writers inline saves ~300 instructions per line; plain `#[inline]`
    // left them as calls.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        copy(&mut self.buf[self.pos..], bytes);
        self.pos += bytes.len();
    }

    /// Appends `s`, known to need no escaping ([`needs_escape`] is false),
    /// between quotes.
    #[inline]
    pub(crate) fn clean_str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.reserve(bytes.len() + 2);
        self.buf[self.pos] = b'"';
        copy(&mut self.buf[self.pos + 1..], bytes);
        self.buf[self.pos + 1 + bytes.len()] = b'"';
        self.pos += bytes.len() + 2;
    }

    /// Appends `s` as a quoted, escaped JSON string.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        if !self.try_clean(s.as_bytes(), b'"') {
            self.str_escaped(s.as_bytes());
        }
    }

    /// Appends `"name":`, an object key.
    #[inline]
    pub(crate) fn key(&mut self, name: &str) {
        if !self.try_clean(name.as_bytes(), b':') {
            self.str_escaped(name.as_bytes());
            self.byte(b':');
        }
    }

    /// Writes `"` + `bytes` + `"` + `end` (`end` a second `"` to close a
    /// plain string; `:` after a key) if nothing in `bytes` needs escaping;
    /// `false`, having written nothing, otherwise.
    ///
    /// Checks and copies eight bytes at a time (the last word overlapping
    /// the one before), or two overlapping four-byte halves for short
    /// strings: the common value is copied in the same pass that checks it.
    #[allow(clippy::inline_always)] // See `raw`.
    #[inline(always)]
    fn try_clean(&mut self, bytes: &[u8], end: u8) -> bool {
        let n = bytes.len();
        self.reserve(n + 3);
        let start = self.pos;
        let out = &mut self.buf[start..];
        out[0] = b'"';
        if n >= 8 {
            let mut words = bytes.chunks_exact(8);
            let mut at = 1;
            for word in &mut words {
                let word = <[u8; 8]>::try_from(word).unwrap_or([0; 8]);
                if word_needs_escape(u64::from_le_bytes(word)) {
                    return false;
                }
                out[at..at + 8].copy_from_slice(&word);
                at += 8;
            }
            if !words.remainder().is_empty() {
                let last = <[u8; 8]>::try_from(&bytes[n - 8..]).unwrap_or([0; 8]);
                if word_needs_escape(u64::from_le_bytes(last)) {
                    return false;
                }
                out[n - 7..=n].copy_from_slice(&last);
            }
        } else if n >= 4 {
            let lo = <[u8; 4]>::try_from(&bytes[..4]).unwrap_or([0; 4]);
            let hi = <[u8; 4]>::try_from(&bytes[n - 4..]).unwrap_or([0; 4]);
            let both = u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32;
            if word_needs_escape(both) {
                return false;
            }
            out[1..5].copy_from_slice(&lo);
            out[n - 3..=n].copy_from_slice(&hi);
        } else {
            for (slot, &b) in out[1..].iter_mut().zip(bytes) {
                if ESCAPE[usize::from(b)] != 0 {
                    return false;
                }
                *slot = b;
            }
        }
        out[n + 1] = b'"';
        out[n + 2] = end;
        self.pos = start + n + 2 + usize::from(end != b'"');
        true
    }

    /// The slow path of [`str`](Self::str): `bytes` holds something to escape.
    #[cold]
    fn str_escaped(&mut self, bytes: &[u8]) {
        // At most six bytes per input byte (`\u00XX`).
        self.reserve(bytes.len() * 6 + 2);
        self.buf[self.pos] = b'"';
        self.pos += 1;
        self.body(bytes);
        self.buf[self.pos] = b'"';
        self.pos += 1;
    }

    /// Escapes `bytes` into the reserved room.
    fn body(&mut self, bytes: &[u8]) {
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if let Some(word) = bytes.get(i..i + 8) {
                let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or([0; 8]));
                if !word_needs_escape(word) {
                    i += 8;
                    continue;
                }
            }
            let b = bytes[i];
            let esc = ESCAPE[usize::from(b)];
            if esc != 0 {
                self.put_reserved(&bytes[start..i]);
                if esc == b'u' {
                    self.put_reserved(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(b >> 4)],
                        HEX[usize::from(b & 0xf)],
                    ]);
                } else {
                    self.put_reserved(&[b'\\', esc]);
                }
                start = i + 1;
            }
            i += 1;
        }
        self.put_reserved(&bytes[start..]);
    }

    /// Copies into room already reserved.
    fn put_reserved(&mut self, bytes: &[u8]) {
        copy(&mut self.buf[self.pos..], bytes);
        self.pos += bytes.len();
    }

    /// Appends an `f64`. JSON has no NaN or infinities: they are written as
    /// the strings `"NaN"`, `"Infinity"` and `"-Infinity"` so the value is
    /// kept and the line stays valid.
    pub(crate) fn f64(&mut self, v: f64) {
        if !v.is_finite() {
            self.raw(if v.is_nan() {
                b"\"NaN\""
            } else if v.is_sign_positive() {
                b"\"Infinity\""
            } else {
                b"\"-Infinity\""
            });
        } else if !self.few_decimals(v) {
            let mut buf = ryu::Buffer::new();
            self.raw(buf.format_finite(v).as_bytes());
        }
    }

    /// Writes `v` if it has at most three decimals and is below 2^53 / 1000
    /// in magnitude (prices, ratios, durations in ms), the text `ryu` would
    /// write, at a fraction of its cost; `false` otherwise.
    ///
    /// Exact: `m / 10^k` for an integer `m` below 2^53 is the double nearest
    /// the decimal `m·10^-k`, so when it equals `v` that decimal reads back
    /// as `v`; trying `k = 0, 1, 2, 3` in order gives the shortest one, as
    /// `ryu` does.
    fn few_decimals(&mut self, v: f64) -> bool {
        const LIMIT: f64 = 9_007_199_254_740.0; // 2^53 / 1000
        const SCALE: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
        let a = v.abs();
        if a >= LIMIT {
            return false;
        }
        for (k, scale) in SCALE.iter().enumerate() {
            // Rounded by adding a half and truncating, not `f64::round`
            // (a libm call without SSE4.1); a wrong candidate fails the
            // exact check below and `ryu` takes over.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let m = (a * scale + 0.5) as u64;
            // Below 2^53: the conversion back is exact.
            #[allow(clippy::cast_precision_loss)]
            let back = m as f64 / scale;
            // Exactness is the point: only a bit-identical double qualifies.
            #[allow(clippy::float_cmp)]
            if back == a {
                self.reserve(24);
                if v.is_sign_negative() {
                    self.buf[self.pos] = b'-';
                    self.pos += 1;
                }
                let div = [1, 10, 100, 1000][k];
                let mut ibuf = itoa::Buffer::new();
                self.put_reserved(ibuf.format(m / div).as_bytes());
                self.buf[self.pos] = b'.';
                self.pos += 1;
                if k == 0 {
                    self.buf[self.pos] = b'0';
                    self.pos += 1;
                } else {
                    put_digits(&mut self.buf[self.pos..self.pos + k], m % div);
                    self.pos += k;
                }
                return true;
            }
        }
        false
    }

    /// Appends any integer.
    #[inline]
    pub(crate) fn int<I: itoa::Integer>(&mut self, v: I) {
        let mut buf = itoa::Buffer::new();
        self.raw(buf.format(v).as_bytes());
    }

    /// Appends `bytes` as lowercase hex, unquoted (ids: 8 or 16 bytes).
    pub(crate) fn hex(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len() * 2);
        let mut at = self.pos;
        let mut words = bytes.chunks_exact(4);
        for word in &mut words {
            let word = <[u8; 4]>::try_from(word).unwrap_or([0; 4]);
            self.buf[at..at + 8].copy_from_slice(&hex8(u32::from_be_bytes(word)));
            at += 8;
        }
        // Ids are whole words; anything else ends byte by byte.
        for &b in words.remainder() {
            self.buf[at] = HEX[usize::from(b >> 4)];
            self.buf[at + 1] = HEX[usize::from(b & 0xf)];
            at += 2;
        }
        self.pos = at;
    }

    /// Appends `t` as a quoted RFC 3339 UTC timestamp with microseconds and
    /// `Z`, e.g. `"2026-11-25T08:47:36.123456Z"`.
    ///
    /// Hand-written rather than going through a date crate: it runs once per
    /// event, the date part is reused within a second, and the
    /// civil-from-days conversion below is a few integer operations with no
    /// allocation (see the `layer` bench).
    // Inlined into the line encoder, which calls it once per line from
    // another module (callgrind, `per_event`).
    #[inline]
    pub(crate) fn timestamp(&mut self, t: SystemTime) {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        if secs != self.stamp_secs || self.stamp_prefix[0] == 0 {
            self.stamp_secs = secs;
            self.stamp_prefix = stamp_prefix(secs);
        }
        self.reserve(29);
        let out = &mut self.buf[self.pos..self.pos + 29];
        out[..20].copy_from_slice(&self.stamp_prefix);
        out[20] = b'.';
        put_digits(&mut out[21..27], u64::from(since.subsec_micros()));
        out[27] = b'Z';
        out[28] = b'"';
        self.pos += 29;
    }
}

/// Copies `src` to the start of `dst` (which has [`SLACK`] spare bytes
/// past `src.len()`): short copies as two overlapping word moves instead
/// of a `memcpy` call.
#[allow(clippy::inline_always)] // See `JsonBuf::raw`.
#[inline(always)]
// `src.len() <= dst.len()` by contract (callers reserved the room); each
// branch's indices are within `n = src.len()`.
#[allow(clippy::indexing_slicing)]
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if (8..=16).contains(&n) {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if (4..8).contains(&n) {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else if n < 4 {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
    } else {
        dst[..n].copy_from_slice(src);
    }
}

/// Eight lowercase hex digits of `v`, most significant first.
///
/// Spreads the nibbles one per byte, then adds `'0'` or `'a' - 10` to all
/// eight at once.
fn hex8(v: u32) -> [u8; 8] {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    // 1 in each byte whose nibble is 10 or more.
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    x += 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10);
    x.to_be_bytes()
}

/// `"YYYY-MM-DDTHH:MM:SS`: the part of a timestamp that one second shares.
fn stamp_prefix(secs: u64) -> [u8; 20] {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut buf = *b"\"0000-00-00T00:00:00";
    put_digits(&mut buf[1..5], u64::from(year));
    put_digits(&mut buf[6..8], u64::from(month));
    put_digits(&mut buf[9..11], u64::from(day));
    put_digits(&mut buf[12..14], rem / 3600);
    put_digits(&mut buf[15..17], (rem % 3600) / 60);
    put_digits(&mut buf[18..20], rem % 60);
    buf
}

/// Whether any of the eight bytes in `w` is a control character, `"` or `\`
/// (SWAR tests from `words`: bytes of 0x80 and above never match).
#[inline]
const fn word_needs_escape(w: u64) -> bool {
    let control = bytes_below(w, 0x20);
    let quote = bytes_below(w ^ repeat(b'"'), 1);
    let backslash = bytes_below(w ^ repeat(b'\\'), 1);
    (control | quote | backslash) != 0
}

/// Whether `s` holds a byte JSON strings escape: a control character,
/// `"` or `\\` (what [`JsonBuf::clean_str`] must not be given).
pub(crate) fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends `s` as a quoted, escaped JSON string to a `Vec` (cold paths:
/// keys and deployment values pre-encoded once per layer).
///
/// Encoded in a buffer of its own size, so the many small pre-encoded
/// pieces do not each keep a line buffer's 1 KiB.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let mut buf = JsonBuf::with_capacity(s.len() * 6 + 2);
    buf.str(s);
    out.extend_from_slice(buf.as_bytes());
}

fn put_digits(slot: &mut [u8], mut v: u64) {
    for b in slot.iter_mut().rev() {
        // `v % 10` is below 10, so the narrowing cannot lose anything.
        *b = b'0' + u8::try_from(v % 10).unwrap_or(0);
        v /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`, unsigned form since the
/// input is never before the epoch).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (
        u32::try_from(year).unwrap_or(9999),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn enc(f: impl FnOnce(&mut JsonBuf)) -> String {
        let mut out = JsonBuf::default();
        f(&mut out);
        String::from_utf8(out.into_vec()).unwrap()
    }

    #[test]
    fn escapes_every_control_character_and_parses_back() {
        let all: String = (0u8..0x80).map(char::from).collect::<String>() + "é漢🙂\u{2028}";
        let json = enc(|o| o.str(&all));
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, all);
        assert!(!json.contains('\n'));
    }

    #[test]
    fn the_word_scan_agrees_with_the_byte_table() {
        // Every byte value in every position of a word, among clean bytes.
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut word = *b"abcdefgh";
                word[pos] = b;
                let expect = ESCAPE[b as usize] != 0;
                assert_eq!(
                    word_needs_escape(u64::from_le_bytes(word)),
                    expect,
                    "{b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn floats_stay_numbers_and_non_finite_become_strings() {
        assert_eq!(enc(|o| o.f64(72.49)), "72.49");
        assert_eq!(enc(|o| o.f64(f64::NAN)), "\"NaN\"");
        assert_eq!(enc(|o| o.f64(f64::INFINITY)), "\"Infinity\"");
        assert_eq!(enc(|o| o.f64(f64::NEG_INFINITY)), "\"-Infinity\"");
    }

    #[test]
    fn timestamps_match_known_dates() {
        let cases = [
            (0, 0, "\"1970-01-01T00:00:00.000000Z\""),
            (951_782_400, 1, "\"2000-02-29T00:00:00.000001Z\""),
            (1_796_197_656, 123_456, "\"2026-12-02T07:47:36.123456Z\""),
            (4_107_542_399, 999_999, "\"2100-02-28T23:59:59.999999Z\""),
        ];
        for (secs, micros, want) in cases {
            let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
            assert_eq!(enc(|o| o.timestamp(t)), want, "{secs}");
        }
    }

    #[test]
    fn timestamps_agree_with_day_arithmetic_over_four_centuries() {
        // Walk day by day and check the calendar advances by exactly one day.
        let mut prev = civil_from_days(0);
        for d in 1..146_097u64 {
            let cur = civil_from_days(d);
            let next_day = cur.2 == prev.2 + 1 && cur.1 == prev.1 && cur.0 == prev.0;
            let next_month = cur.2 == 1 && (cur.1 == prev.1 + 1 && cur.0 == prev.0);
            let next_year = cur == (prev.0 + 1, 1, 1) && prev.1 == 12 && prev.2 == 31;
            assert!(next_day || next_month || next_year, "{prev:?} -> {cur:?}");
            prev = cur;
        }
    }

    fn ryu(v: f64) -> String {
        ryu::Buffer::new().format_finite(v).to_owned()
    }

    #[test]
    fn decimal_fast_path_writes_what_ryu_writes() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            72.49,
            0.1,
            0.2,
            0.3,
            0.001,
            0.0005,
            1e-7,
            2.5e-3,
            1e12,
            9_007_199_254_739.999,
            9_007_199_254_740.0,
            1e15,
            1e16,
            123.456,
            99.995,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            4_503_599_627_370_496.5,
        ];
        // Every cent from 0 to 100 000 and every thousandth below 100.
        cases.extend((0..10_000_000u32).step_by(97).map(|c| f64::from(c) / 100.0));
        cases.extend((0..100_000u32).map(|m| f64::from(m) / 1000.0));
        // Doubles that are not short decimals at all.
        let mut x = 0x1234_5678_9abc_def0_u64;
        for _ in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                cases.push(v);
                cases.push(v.fract() + (v.abs() % 1e9).trunc());
            }
        }
        for v in cases {
            for v in [v, -v] {
                assert_eq!(enc(|o| o.f64(v)), ryu(v), "{v:e}");
            }
        }
    }

    #[test]
    fn strings_of_every_length_round_trip() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..base.len() {
            let clean = &base[..len];
            assert_eq!(enc(|o| o.str(clean)), format!("\"{clean}\""));
            // One character to escape at every position.
            for at in 0..len {
                let mut dirty = clean.to_owned();
                dirty.replace_range(at..=at, "\"");
                let json = enc(|o| o.str(&dirty));
                assert_eq!(serde_json::from_str::<String>(&json).unwrap(), dirty);
            }
        }
    }

    #[test]
    fn keys_of_every_length_round_trip() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..base.len() {
            for name in [base[..len].to_owned(), format!("{}\"\n", &base[..len])] {
                let json = enc(|o| {
                    o.byte(b'{');
                    o.key(&name);
                    o.int(len);
                    o.byte(b'}');
                });
                let back: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&json).unwrap();
                assert_eq!(back.get(&name), Some(&serde_json::json!(len)), "{json}");
            }
        }
    }

    #[test]
    fn many_writes_grow_the_buffer_and_keep_everything() {
        let json = enc(|o| {
            o.byte(b'[');
            for i in 0..2000 {
                if i > 0 {
                    o.byte(b',');
                }
                o.str(&"x".repeat(i % 40));
            }
            o.byte(b']');
        });
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.len(), 2000);
        assert!(back.iter().enumerate().all(|(i, s)| s.len() == i % 40));
    }

    #[test]
    fn appending_keeps_what_was_there() {
        let mut buf = JsonBuf::append_to(b"{\"a\":".to_vec());
        buf.int(42u64);
        buf.byte(b'}');
        assert_eq!(buf.into_vec(), b"{\"a\":42}");
    }

    #[test]
    fn hex_matches_format() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let bytes = [x.to_be_bytes(), x.rotate_left(17).to_be_bytes()].concat();
            let want: String = bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .concat();
            assert_eq!(enc(|o| o.hex(&bytes)), want);
            assert_eq!(enc(|o| o.hex(&bytes[..8])), want[..16]);
            assert_eq!(enc(|o| o.hex(&bytes[..7])), want[..14]);
        }
    }

    #[test]
    fn timestamps_in_the_same_second_reuse_the_date_and_change_the_micros() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_197_656);
        let json = enc(|o| {
            o.timestamp(t + Duration::from_micros(1));
            o.timestamp(t + Duration::from_micros(999_999));
            o.timestamp(t + Duration::from_secs(1));
        });
        assert_eq!(
            json,
            "\"2026-12-02T07:47:36.000001Z\"\"2026-12-02T07:47:36.999999Z\"\"2026-12-02T07:47:37.000000Z\""
        );
    }
}
