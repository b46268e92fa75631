//! The JSON primitives every output line is made of.
//!
//! One escaper, one number writer and one timestamp writer, shared by the
//! envelope encoder and by span-field pre-encoding, so a value is escaped the
//! same way wherever it lands. Everything appends to a caller-owned `Vec<u8>`
//! so the hot path reuses one buffer per thread and allocates nothing.

use std::time::{SystemTime, UNIX_EPOCH};

/// Escapes needed per byte: 0 = copy as is, `u` = `\u00XX`, anything else is
/// the character after the backslash. Only control characters, `"` and `\`
/// need escaping in JSON; multi-byte UTF-8 is copied untouched.
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

/// Appends `s` as a quoted, escaped JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    if needs_escape(s.as_bytes()) {
        write_str_body(out, s);
    } else {
        // The common case: one copy, no per-byte work.
        out.extend_from_slice(s.as_bytes());
    }
    out.push(b'"');
}

/// Whether any byte of `bytes` needs escaping, eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        if word_needs_escape(word) {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| ESCAPE[usize::from(b)] != 0)
}

/// Appends the escaped body of `s`, without quotes.
///
/// Scans eight bytes at a time for anything that needs escaping (most
/// values need none) and copies clean runs in one go.
pub(crate) fn write_str_body(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
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
        let esc = ESCAPE[b as usize];
        if esc != 0 {
            out.extend_from_slice(&bytes[start..i]);
            if esc == b'u' {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            } else {
                out.push(b'\\');
                out.push(esc);
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any of the eight bytes in `w` is a control character, `"` or `\`.
///
/// Classic SWAR tests: `(x - 0x01..) & !x & 0x80..` is non-zero exactly when
/// some byte of `x` is zero (or, with `0x20..`, below 0x20); bytes of
/// 0x80 and above never match because of the `& !x`.
const fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * b'"' as u64);
    let quote = q.wrapping_sub(LO) & !q & HI;
    let b = w ^ (LO * b'\\' as u64);
    let backslash = b.wrapping_sub(LO) & !b & HI;
    (control | quote | backslash) != 0
}

/// Appends an `f64`. JSON has no NaN or infinities: they are written as the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"` so the value is kept and
/// the line stays valid.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v.is_sign_positive() {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// Appends any integer.
pub(crate) fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

/// Appends `t` as a quoted RFC 3339 UTC timestamp with microseconds and `Z`,
/// e.g. `"2026-11-25T08:47:36.123456Z"`.
///
/// Hand-written rather than going through a date crate: it runs once per
/// event, and the civil-from-days conversion below is a few integer
/// operations with no allocation (see the `layer` bench).
pub(crate) fn write_timestamp(out: &mut Vec<u8>, t: SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let micros = since.subsec_micros();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut buf = *b"\"0000-00-00T00:00:00.000000Z\"";
    put_digits(&mut buf[1..5], u64::from(year));
    put_digits(&mut buf[6..8], u64::from(month));
    put_digits(&mut buf[9..11], u64::from(day));
    put_digits(&mut buf[12..14], rem / 3600);
    put_digits(&mut buf[15..17], (rem % 3600) / 60);
    put_digits(&mut buf[18..20], rem % 60);
    put_digits(&mut buf[21..27], u64::from(micros));
    out.extend_from_slice(&buf);
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
mod tests {
    use super::*;
    use std::time::Duration;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_control_character_and_parses_back() {
        let all: String = (0u8..0x80).map(char::from).collect::<String>() + "é漢🙂\u{2028}";
        let json = enc(|o| write_str(o, &all));
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
        assert_eq!(enc(|o| write_f64(o, 72.49)), "72.49");
        assert_eq!(enc(|o| write_f64(o, f64::NAN)), "\"NaN\"");
        assert_eq!(enc(|o| write_f64(o, f64::INFINITY)), "\"Infinity\"");
        assert_eq!(enc(|o| write_f64(o, f64::NEG_INFINITY)), "\"-Infinity\"");
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
            assert_eq!(enc(|o| write_timestamp(o, t)), want, "{secs}");
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
}
