//! Word-at-a-time tricks on short byte strings, shared by the field store
//! (name compares), the redactor (hint scans) and the JSON escaper.
//!
//! ```text
//! bytes (4 to 16) ─> overlapping_words ─> [u64; 2] ─┬─> same_bytes (fields: names)
//!                                                   └─> has_byte  (redact: `@` `:` `=` `(`)
//! any u64 ─> zero_bytes / repeat ─> has_byte, and the escaper's `word_needs_escape`
//! ```
//!
//! Field names and short values are mostly under 16 bytes: two loads that
//! overlap in the middle cover every byte without a loop or a `memcmp`
//! call. These run several times per event, so each is `#[inline]`.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

/// `0x01` in every byte.
const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
const HI: u64 = 0x8080_8080_8080_8080;

/// `b` in every byte of a word.
#[inline]
pub(crate) const fn repeat(b: u8) -> u64 {
    LO * b as u64
}

/// Non-zero exactly when some byte of `x` is below `n` (`n` at most
/// 0x80): the classic SWAR test `(x - n·0x01..) & !x & 0x80..`; bytes of
/// 0x80 and above never match because of the `& !x`. With `n = 1` it finds
/// zero bytes.
#[inline]
pub(crate) const fn bytes_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(repeat(n)) & !x & HI
}

/// Whether any byte of `w` is `b` (the zero-byte test on `w ^ b…`).
#[inline]
pub(crate) const fn has_byte(w: u64, b: u8) -> bool {
    bytes_below(w ^ repeat(b), 1) != 0
}

/// The eight bytes of `bytes` from `at` as a little-endian word (0 past the end).
#[inline]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The four bytes of `bytes` from `at` as a little-endian word, zero-extended
/// (0 past the end).
#[inline]
pub(crate) fn half_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// `bytes` (4 to 16 of them) as two little-endian words that together
/// cover every byte, overlapping in the middle: the first and the last
/// eight bytes, or below eight bytes the first and the last four
/// (zero-extended: those zero bytes match only a search for zero).
/// Shorter or longer input gives words that miss bytes; callers check the
/// length first.
#[inline]
pub(crate) fn overlapping_words(bytes: &[u8]) -> [u64; 2] {
    let n = bytes.len();
    if n >= 8 {
        [word_at(bytes, 0), word_at(bytes, n - 8)]
    } else {
        [half_at(bytes, 0), half_at(bytes, n.saturating_sub(4))]
    }
}

/// Whether two byte strings are equal; from 4 to 16 bytes compared as two
/// overlapping words (or halves) each, without a `memcmp` call (schema
/// checks look several field names up per event).
// Every slice is within `n` bytes, by the arm it is in. Indexing rather
// than `word_at` (measured with callgrind, `per_event`: `get` cost the
// schema contender 8 instructions per event in name lookups).
#[allow(clippy::indexing_slicing)]
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| <[u8; 8]>::try_from(&s[at..at + 8]).unwrap_or([0; 8]);
    let half = |s: &[u8], at: usize| <[u8; 4]>::try_from(&s[at..at + 4]).unwrap_or([0; 4]);
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_equal_exactly_when_equal() {
        let base = b"abcdefghijklmnopqrstu";
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &base[..=len]));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] = b'_';
                assert!(!same_bytes(a, &b), "{len} {at}");
            }
        }
    }

    #[test]
    fn overlapping_words_cover_every_byte() {
        for len in 4..=16 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'@';
                let words = overlapping_words(&bytes);
                assert!(words.iter().any(|&w| has_byte(w, b'@')), "{len} {at}");
                assert!(!words.iter().any(|&w| has_byte(w, b':')), "{len} {at}");
            }
        }
    }

    #[test]
    fn bytes_below_finds_exactly_the_small_bytes() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut word = *b"abcdefgh";
                word[pos] = b;
                let w = u64::from_le_bytes(word);
                assert_eq!(bytes_below(w, 0x20) != 0, b < 0x20, "{b:#x} at {pos}");
                assert_eq!(has_byte(w, b'"'), b == b'"', "{b:#x} at {pos}");
            }
        }
    }
}
