//! Key rules: which field names are sensitive, matched by name segment.
//!
//! A name is cut into segments at separators and camelCase boundaries,
//! over `char`s (never bytes), so any name in all of Unicode segments
//! without panicking: `db_password` → `db`, `password`; `apiKey` → `api`,
//! `Key`; `user_contraseña` → `user`, `contraseña`. Segments compare
//! case-insensitively (full Unicode lowercase; ASCII without allocating).

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::cell::Cell;

use crate::cache::{self, Entry, Slots};

/// Longest segment a key rule is bucketed by; rules whose first segment is
/// longer share one overflow bucket, checked only for long name segments.
const MAX_SEGMENT: usize = 32;

/// Buckets: one per first-segment length `0..=MAX_SEGMENT`, plus overflow.
const BUCKETS: usize = MAX_SEGMENT + 2;

/// Whether `c` separates segments: any ASCII character but letters and
/// digits, and Unicode whitespace and control characters. Every other
/// non-ASCII character (letters, marks, symbols, CJK) belongs to a word.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        !c.is_ascii_alphanumeric()
    } else {
        c.is_whitespace() || c.is_control()
    }
}

/// The segments of a field name: split at separators and camelCase
/// boundaries (`apiKey` → `api`, `Key`; `DBPassword` → `DB`, `Password`).
#[derive(Debug, Clone)]
pub(super) struct Segments<'a> {
    rest: &'a str,
}

pub(super) fn segments(name: &str) -> Segments<'_> {
    Segments { rest: name }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.rest.find(|c: char| !is_separator(c))?;
        let word = self.rest.get(start..).unwrap_or_default();
        let mut prev: Option<char> = None;
        let mut end = word.len();
        let mut chars = word.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_separator(c) {
                end = i;
                break;
            }
            let next = chars.peek().map(|&(_, n)| n);
            let boundary = c.is_uppercase()
                && prev.is_some_and(|p| {
                    p.is_lowercase()
                        || p.is_numeric()
                        || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
                });
            if boundary {
                end = i;
                break;
            }
            prev = Some(c);
        }
        // `end` is a char index of `word` (or its length): both slices are
        // on char boundaries, so neither `get` can fail.
        let segment = word.get(..end).unwrap_or_default();
        self.rest = word.get(end..).unwrap_or_default();
        Some(segment)
    }
}

/// The byte length of `segment` once lowercased.
fn lower_len(segment: &str) -> usize {
    if segment.is_ascii() {
        segment.len()
    } else {
        segment
            .chars()
            .flat_map(char::to_lowercase)
            .map(char::len_utf8)
            .sum()
    }
}

/// Whether name segment `s` equals rule segment `rule` (already lowercase).
fn segment_eq(s: &str, rule: &str) -> bool {
    if s.is_ascii() {
        s.eq_ignore_ascii_case(rule)
    } else {
        s.chars().flat_map(char::to_lowercase).eq(rule.chars())
    }
}

/// A rule's segments, lowercased; `None` if the name has none.
pub(super) fn rule_segments(name: &str) -> Option<Vec<String>> {
    let segs: Vec<String> = segments(name).map(str::to_lowercase).collect();
    (!segs.is_empty()).then_some(segs)
}

/// Key rules by the (lowercased) length of their first segment.
#[derive(Debug, Clone)]
pub(super) struct KeyIndex {
    rules: Vec<Vec<String>>,
    by_len: Vec<Vec<usize>>,
}

impl KeyIndex {
    pub(super) fn new(rules: Vec<Vec<String>>) -> Self {
        let mut by_len: Vec<Vec<usize>> = vec![Vec::new(); BUCKETS];
        for (i, rule) in rules.iter().enumerate() {
            let len = rule.first().map_or(0, String::len);
            if let Some(bucket) = by_len.get_mut(len.min(MAX_SEGMENT + 1)) {
                bucket.push(i);
            }
        }
        Self { rules, by_len }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule whose segments occur, in order, among `name`'s.
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let mut segs = segments(name);
        loop {
            let tail = segs.clone();
            let seg = segs.next()?;
            let Some(candidates) = self.by_len.get(lower_len(seg).min(MAX_SEGMENT + 1)) else {
                continue;
            };
            for &i in candidates {
                let Some(rule) = self.rules.get(i) else {
                    continue;
                };
                let mut tail = tail.clone();
                if rule
                    .iter()
                    .all(|r| tail.next().is_some_and(|s| segment_eq(s, r)))
                {
                    return Some(i);
                }
            }
        }
    }
}

/// Segments that name a payment card: an integer field named like this is
/// checked for a card number (typed numbers are not text, so no detector
/// sees them otherwise).
const CARD_SEGMENTS: [&str; 6] = ["card", "cards", "pan", "ccn", "cardnumber", "creditcard"];

/// Whether a field name has a [`CARD_SEGMENTS`] segment (`card`, `card_no`, `creditCard`).
pub(super) fn is_card_name(name: &str) -> bool {
    segments(name).any(|s| CARD_SEGMENTS.iter().any(|c| segment_eq(s, c)))
}

/// What the key rules decided for one field name, packed in a word (it is
/// returned and cached on the hot path): bit 0 says the name names a
/// payment card, the bits above hold the matching rule's position + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFacts(u32);

impl KeyFacts {
    /// Not sensitive, not a card.
    pub(crate) const NONE: KeyFacts = KeyFacts(0);

    pub(super) fn new(rule: Option<usize>, card: bool) -> Self {
        // More than 2^31 key rules cannot be built in memory; clamp anyway.
        let rule = rule.map_or(0, |r| {
            u32::try_from(r + 1)
                .unwrap_or(u32::MAX >> 1)
                .min(u32::MAX >> 1)
        });
        KeyFacts(rule << 1 | u32::from(card))
    }

    /// The matching key rule, by position.
    pub(crate) fn rule_index(self) -> Option<usize> {
        let r = self.0 >> 1;
        (r != 0).then(|| r as usize - 1)
    }

    /// The name names a payment card.
    pub(crate) fn card(self) -> bool {
        self.0 & 1 != 0
    }
}

const KEY_CACHE_SLOTS: usize = 256;

thread_local! {
    /// One cached key decision per slot: which field name (address,
    /// length), under which rule set (its unique id, never an address that
    /// could be reused), decided what. Rule set ids start at 1, so empty
    /// slots match nothing.
    static KEY_CACHE: Slots<((usize, usize), u64), KeyFacts, KEY_CACHE_SLOTS> = const {
        [const { Cell::new(Entry { key: ((0, 0), 0), value: KeyFacts::NONE }) }; KEY_CACHE_SLOTS]
    };
}

/// The cache hash of a name (address, length).
fn hash_of(name_id: (usize, usize)) -> u64 {
    (name_id.0 ^ name_id.1.rotate_left(48)) as u64
}

/// `decide(name)` for a `tracing` field name under rule set `rules_id`,
/// cached per thread (`crate::cache`): field names are `'static`, so their
/// address identifies them and a steady-state lookup is one probe instead
/// of segmenting the name. An entry of another rule set is the one a
/// newcomer replaces first.
#[inline]
pub(super) fn cached(
    name: &'static str,
    rules_id: u64,
    decide: impl FnOnce(&str) -> KeyFacts,
) -> KeyFacts {
    let name_id = (name.as_ptr() as usize, name.len());
    let slot = cache::slot_of::<KEY_CACHE_SLOTS>(hash_of(name_id));
    let is = |&(name, rules): &((usize, usize), u64)| name == name_id && rules == rules_id;
    if let Some(facts) = cache::get(&KEY_CACHE, slot, is) {
        return facts;
    }
    decide_and_keep(name, rules_id, slot, decide)
}

/// [`cached`]'s miss: decide, and keep the answer. Out of line, so the
/// hit path keeps its values in registers (callgrind, `per_event`).
#[cold]
#[inline(never)]
fn decide_and_keep(
    name: &'static str,
    rules_id: u64,
    slot: usize,
    decide: impl FnOnce(&str) -> KeyFacts,
) -> KeyFacts {
    let name_id = (name.as_ptr() as usize, name.len());
    let facts = decide(name);
    cache::insert(
        &KEY_CACHE,
        slot,
        (name_id, rules_id),
        facts,
        |&(_, rules)| rules == rules_id,
    );
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_on_separators_and_camel_case() {
        let s: Vec<_> = segments("x-apiKey_DBPassword.v2Token").collect();
        assert_eq!(s, ["x", "api", "Key", "DB", "Password", "v2", "Token"]);
        assert_eq!(segments("__").count(), 0);
        assert_eq!(segments("").count(), 0);
    }

    #[test]
    fn non_ascii_names_segment_on_char_boundaries() {
        let s: Vec<_> = segments("café").collect();
        assert_eq!(s, ["café"]);
        let s: Vec<_> = segments("user_contraseña").collect();
        assert_eq!(s, ["user", "contraseña"]);
        let s: Vec<_> = segments("númeroDeTarjeta").collect();
        assert_eq!(s, ["número", "De", "Tarjeta"]);
        let s: Vec<_> = segments("ÉCOLE é\u{301}t\u{3000}密码").collect();
        assert_eq!(s, ["ÉCOLE", "é\u{301}t", "密码"]);
        let s: Vec<_> = segments("é").collect();
        assert_eq!(s, ["é"]);
    }

    #[test]
    fn unicode_rules_match_case_insensitively_as_segments() {
        let index = KeyIndex::new(vec![rule_segments("Contraseña").unwrap()]);
        for name in [
            "contraseña",
            "CONTRASEÑA",
            "user_contraseña",
            "userContraseña",
        ] {
            assert_eq!(index.find(name), Some(0), "{name}");
        }
        for name in ["contraseñas", "contrasena", "señal", ""] {
            assert_eq!(index.find(name), None, "{name}");
        }
    }

    #[test]
    fn long_first_segments_still_match() {
        let long = "a".repeat(MAX_SEGMENT + 10);
        let index = KeyIndex::new(vec![rule_segments(&long).unwrap()]);
        assert_eq!(index.find(&format!("x_{long}")), Some(0));
        assert_eq!(index.find(&"a".repeat(MAX_SEGMENT + 11)), None);
    }

    #[test]
    fn rules_of_many_segments_match() {
        let name = (0..40)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join("_");
        let index = KeyIndex::new(vec![rule_segments(&name).unwrap()]);
        assert_eq!(index.find(&format!("pre_{name}")), Some(0));
    }

    #[test]
    fn two_names_in_one_slot_both_stay_cached() {
        static TEXT: [u8; 300] = [b'a'; 300];
        let name = |i: usize| std::str::from_utf8(TEXT.get(i..i + 4).unwrap()).unwrap();
        let slot =
            |n: &str| cache::slot_of::<KEY_CACHE_SLOTS>(hash_of((n.as_ptr() as usize, n.len())));
        // Two 4-byte slices of one static with the same slot: 257 of them
        // over 256 slots, so a pair exists wherever the static lands (with
        // 150, Fibonacci hashing of neighbouring addresses could spread
        // them all apart, and did in CI).
        let (a, b) = (0..=KEY_CACHE_SLOTS)
            .flat_map(|i| (i + 1..=KEY_CACHE_SLOTS).map(move |j| (i, j)))
            .map(|(i, j)| (name(i), name(j)))
            .find(|(a, b)| slot(a) == slot(b))
            .unwrap();
        let rules_id = u64::MAX - 7;
        let decided = std::cell::Cell::new(0);
        let decide = |_: &str| {
            decided.set(decided.get() + 1);
            KeyFacts::NONE
        };
        for _ in 0..10 {
            cached(a, rules_id, decide);
            cached(b, rules_id, decide);
        }
        assert_eq!(decided.get(), 2, "each name decided once");
    }

    #[test]
    fn card_names() {
        for name in ["card", "card_no", "creditCard", "pan", "CARD"] {
            assert!(is_card_name(name), "{name}");
        }
        for name in ["cardinal", "discard", "panel", "order_id"] {
            assert!(!is_card_name(name), "{name}");
        }
    }
}
