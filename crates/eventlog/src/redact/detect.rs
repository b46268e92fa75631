//! The text detectors, and the one-pass hint scan that decides which of
//! them may run at all.
//!
//! Every detector walks bytes and only ever cuts the text at ASCII bytes
//! it has just looked at, so every cut is on a char boundary; the slicing
//! goes through `get` anyway and treats a miss as "nothing here".

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use crate::words::{has_byte, overlapping_words};

/// The byte at `i`, or 0 past the end (0 is never a byte any detector looks for).
pub(super) fn at(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

/// `text[start..end]`, or `""` if that is not a char range of `text`.
pub(super) fn sub(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or_default()
}

const DIGIT: u8 = 1;
const AT: u8 = 2;
/// `:` `=` (key-value text) and `(` (a sensitive newtype: `Secret("…")`).
const SEPARATOR: u8 = 4;
const CAPITAL_J: u8 = 8;
/// `b` / `B`: `Bearer` and `Basic`.
const LETTER_B: u8 = 16;
/// `_` `-` `A` `G`: some byte of every vendor token prefix, and PEM's dashes.
const TOKEN: u8 = 32;

/// What each byte hints at, for [`Hints::of`].
// Built at compile time: an index out of bounds would fail the build, and
// every index is a `u8` into 256 entries anyway.
#[allow(clippy::indexing_slicing)]
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        table[d as usize] = DIGIT;
        d += 1;
    }
    table[b'@' as usize] = AT;
    table[b':' as usize] = SEPARATOR;
    table[b'=' as usize] = SEPARATOR;
    table[b'(' as usize] = SEPARATOR;
    table[b'J' as usize] = CAPITAL_J;
    table[b'b' as usize] = LETTER_B;
    table[b'B' as usize] = LETTER_B;
    table[b'_' as usize] = TOKEN;
    table[b'-' as usize] = TOKEN;
    table[b'A' as usize] = TOKEN;
    table[b'G' as usize] = TOKEN;
    table
};

/// Whether any detector may match `text`, decided cheaply: `false` for
/// text under 6 bytes, and under 13 bytes (no card, token or key fits)
/// unless it holds `@`, `:`, `=` or `(`; `true` for anything longer, which
/// [`Hints::of`] then looks at byte by byte.
#[inline]
pub(super) fn may_match(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 6 {
        return false;
    }
    if bytes.len() >= 13 {
        return true;
    }
    let words = overlapping_words(bytes);
    words
        .iter()
        .any(|&w| has_byte(w, b'@') || has_byte(w, b':') || has_byte(w, b'=') || has_byte(w, b'('))
}

/// Cheap facts gathered in one pass, so detectors that cannot match skip.
#[allow(clippy::struct_excessive_bools)] // One flag per detector, read once each.
#[derive(Debug, Default)]
pub(super) struct Hints {
    pub(super) digits: usize,
    pub(super) at: bool,
    pub(super) separator: bool,
    pub(super) url: bool,
    pub(super) jwt: bool,
    pub(super) bearer: bool,
    pub(super) basic: bool,
    pub(super) token: bool,
    pub(super) private_key: bool,
}

impl Hints {
    /// Whether any detector may match.
    pub(super) fn any(&self) -> bool {
        self.digits >= 13
            || self.at
            || self.separator
            || self.jwt
            || self.bearer
            || self.basic
            || self.token
    }

    pub(super) fn of(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut hints = Hints::default();
        // The shortest thing any detector matches (`a@b.co`, `pwd=1`
        // aside, which no value this short is worth a pass for) is 6 bytes.
        if bytes.len() < 6 {
            return hints;
        }
        // Below 13 bytes only an e-mail, a URL's userinfo or `name=value`
        // fits (a card needs 13 digits, every token more): look for `@`,
        // `:`, `=` and `(` in two overlapping words instead of classifying
        // every byte.
        if bytes.len() < 13 {
            let words = overlapping_words(bytes);
            hints.at = words.iter().any(|&w| has_byte(w, b'@'));
            hints.separator = words
                .iter()
                .any(|&w| has_byte(w, b':') || has_byte(w, b'=') || has_byte(w, b'('));
            hints.url = hints.at && hints.separator && text.contains("://");
            return hints;
        }
        // One table lookup per byte; rare letters only raise a flag that
        // the precise (and slower) checks below then confirm.
        let mut seen = 0u8;
        for &b in bytes {
            // A `u8` indexes a 256-entry table: always in bounds.
            #[allow(clippy::indexing_slicing)]
            let class = BYTE_CLASS[usize::from(b)];
            seen |= class;
            hints.digits += usize::from(class & DIGIT);
        }
        hints.at = seen & AT != 0;
        hints.separator = seen & SEPARATOR != 0;
        hints.url = hints.at && hints.separator && text.contains("://");
        hints.jwt = seen & CAPITAL_J != 0 && bytes.len() >= 20 && text.contains("eyJ");
        if seen & LETTER_B != 0 && bytes.len() >= 14 {
            for w in bytes.windows(6) {
                let w: &[u8] = w;
                if let Some(first) = w.get(..5) {
                    hints.basic |= first.eq_ignore_ascii_case(b"basic") && w.last() == Some(&b' ');
                }
                hints.bearer |= w.eq_ignore_ascii_case(b"bearer");
            }
        }
        hints.token = seen & TOKEN != 0 && bytes.len() >= 20;
        hints.private_key = hints.token && bytes.len() >= 40 && text.contains("-----BEGIN ");
        hints
    }
}

/// What a detector made of a text: the redacted copy and how many matches
/// it replaced, or `None` when nothing matched.
pub(super) type Rewritten = Option<(String, u64)>;

/// Builds the redacted copy of a text: untouched runs copied, matches replaced.
/// The copy is allocated at the first match, so the common case (nothing
/// to redact) allocates nothing.
pub(super) struct Rewrite<'t> {
    text: &'t str,
    out: String,
    /// Bytes of `text` already copied or replaced.
    pub(super) copied: usize,
    count: u64,
}

impl<'t> Rewrite<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Self {
            text,
            out: String::new(),
            copied: 0,
            count: 0,
        }
    }

    /// Replaces `text[start..end]` (after everything already copied) with
    /// `with`. Detectors only pass ranges that start and end at ASCII
    /// bytes; a range that is not a char range is skipped, never cut.
    pub(super) fn replace(&mut self, start: usize, end: usize, with: &str) {
        if start < self.copied
            || end < start
            || !self.text.is_char_boundary(start)
            || !self.text.is_char_boundary(end)
        {
            return;
        }
        if self.count == 0 {
            self.out.reserve(self.text.len());
        }
        self.out.push_str(sub(self.text, self.copied, start));
        self.out.push_str(with);
        self.copied = end;
        self.count += 1;
    }

    pub(super) fn finish(mut self) -> Rewritten {
        if self.count == 0 {
            return None;
        }
        self.out
            .push_str(self.text.get(self.copied..).unwrap_or_default());
        Some((self.out, self.count))
    }
}

/// The Luhn checksum (ISO/IEC 7812) over ASCII digits.
pub(super) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0'));
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `digits` has a card number's shape: 13–19 digits, starting with
/// 2–6 (the card networks' ranges), Luhn-valid.
pub(super) fn is_card(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len())
        && matches!(digits.first(), Some(b'2'..=b'6'))
        && digits.iter().all(u8::is_ascii_digit)
        && luhn(digits)
}

/// The alphanumeric word around `bytes[start..end]` holds a letter that is
/// not a hex digit: it is text with a number glued in (`card4111…`,
/// `…1111exp`), not a hex id or hash (which keep their digit runs).
fn glued_to_words(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = bytes
        .get(..start)
        .unwrap_or_default()
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric());
    let after = bytes
        .get(end..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric());
    before
        .chain(after)
        .any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())
}

/// Replaces each card number: a run of digit groups (single spaces or
/// dashes between them) holding 13–19 consecutive digits in whole groups
/// that pass [`is_card`], so a card followed by its expiry or CVV
/// (`4111 1111 1111 1111 12/27 123`) or preceded by another number is
/// still found. A number glued to letters counts too (`card4111…`), unless
/// the whole word is hexadecimal (ids and hashes).
pub(super) fn replace_cards(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    // Digit groups of the current run: (start, end) byte offsets.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    while i < bytes.len() {
        if !at(bytes, i).is_ascii_digit() {
            i += 1;
            continue;
        }
        groups.clear();
        let mut j = i;
        loop {
            let start = j;
            while at(bytes, j).is_ascii_digit() {
                j += 1;
            }
            groups.push((start, j));
            if matches!(at(bytes, j), b' ' | b'-') && at(bytes, j + 1).is_ascii_digit() {
                j += 1;
            } else {
                break;
            }
        }
        let run_end = j;
        let mut g = 0;
        while g < groups.len() {
            match card_from(bytes, &groups, g) {
                Some((last, digits)) => {
                    let (start, _) = groups.get(g).copied().unwrap_or_default();
                    let (_, end) = groups.get(last).copied().unwrap_or_default();
                    // A lone group glued to an alphanumeric word is only a
                    // card if the word is not hexadecimal.
                    let glued = at(bytes, end).is_ascii_alphanumeric()
                        || (start > 0 && at(bytes, start - 1).is_ascii_alphanumeric());
                    if !glued || glued_to_words(bytes, start, end) {
                        rw.replace(start, end, &replace(&digits));
                        g = last + 1;
                        continue;
                    }
                    g += 1;
                }
                None => g += 1,
            }
        }
        i = run_end.max(i + 1);
    }
    rw.finish()
}

/// The longest card number made of whole groups starting at group `first`:
/// the index of its last group and its digits.
fn card_from(bytes: &[u8], groups: &[(usize, usize)], first: usize) -> Option<(usize, String)> {
    let mut digits = Vec::with_capacity(19);
    let mut best = None;
    for (k, &(start, end)) in groups.iter().enumerate().skip(first) {
        digits.extend_from_slice(bytes.get(start..end).unwrap_or_default());
        if digits.len() > 19 {
            break;
        }
        if is_card(&digits) {
            best = Some(k);
        }
    }
    let last = best?;
    // Recollect the winner's digits (the loop may have gone further).
    let mut out = String::with_capacity(19);
    for &(start, end) in groups.get(first..=last).unwrap_or_default() {
        out.push_str(
            std::str::from_utf8(bytes.get(start..end).unwrap_or_default()).unwrap_or_default(),
        );
    }
    Some((last, out))
}

pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Each `<scheme> <token>` (scheme matched case-insensitively at a word
/// start, one or more spaces, a token of at least `min` token bytes):
/// `(token start, token end)`.
fn scheme_tokens<'a>(
    text: &'a str,
    scheme: &'static [u8],
    min: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + scheme.len() < bytes.len() {
            let here = i;
            i += 1;
            let word = bytes.get(here..here + scheme.len()).unwrap_or_default();
            let at_word_start = here == 0 || !at(bytes, here - 1).is_ascii_alphanumeric();
            if !(at_word_start
                && word.eq_ignore_ascii_case(scheme)
                && at(bytes, here + scheme.len()) == b' ')
            {
                continue;
            }
            let mut start = here + scheme.len();
            while at(bytes, start) == b' ' {
                start += 1;
            }
            let mut end = start;
            while is_token_byte(at(bytes, end)) {
                end += 1;
            }
            if end - start >= min {
                i = end;
                return Some((start, end));
            }
        }
        None
    })
}

/// Replaces the token after each `Bearer ` (any case).
pub(super) fn replace_bearer(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let mut rw = Rewrite::new(text);
    for (start, end) in scheme_tokens(text, b"bearer", 8) {
        rw.replace(start, end, &replace(sub(text, start, end)));
    }
    rw.finish()
}

/// Decodes standard or URL-safe base64 (padding optional); `None` if `s`
/// is not base64.
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let value = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    };
    let body = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for &b in chunk {
            acc = acc << 6 | value(b)?;
        }
        let bits = chunk.len() * 6;
        acc <<= 24 - bits;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(bytes.get(1..1 + bits / 8).unwrap_or_default());
    }
    Some(out)
}

/// Replaces the credentials after each `Basic ` (any case) that decode to
/// `user:password` (RFC 7617), so the word "basic" in prose stays.
pub(super) fn replace_basic(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let mut rw = Rewrite::new(text);
    for (start, end) in scheme_tokens(text, b"basic", 4) {
        let token = sub(text, start, end);
        let credentials = base64_decode(token.as_bytes())
            .is_some_and(|d| d.contains(&b':') && d.iter().all(|b| !b.is_ascii_control()));
        if credentials {
            rw.replace(start, end, &replace(token));
        }
    }
    rw.finish()
}

/// Replaces each JSON Web Token (`eyJ…` header, three base64url parts).
pub(super) fn replace_jwt(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let is_b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut search = 0;
    while let Some(found) = text.get(search..).and_then(|rest| rest.find("eyJ")) {
        let start = search + found;
        let mut end = start;
        let mut parts = [0usize; 3];
        let mut part = 0;
        while end < bytes.len() {
            let b = at(bytes, end);
            if is_b64url(b) {
                if let Some(p) = parts.get_mut(part) {
                    *p += 1;
                }
            } else if b == b'.' && part < 2 && parts.get(part).is_some_and(|p| *p > 0) {
                part += 1;
            } else {
                break;
            }
            end += 1;
        }
        let preceded_ok = start == 0 || !is_b64url(at(bytes, start - 1));
        if preceded_ok && part == 2 && parts.iter().all(|p| *p >= 4) {
            rw.replace(start, end, &replace(sub(text, start, end)));
            search = end;
        } else {
            search = start + 3;
        }
    }
    rw.finish()
}

/// Authentication schemes whose credentials follow after a space: in
/// `authorization=Basic <credentials>` the value is both words.
const AUTH_SCHEMES: [&[u8]; 12] = [
    b"basic",
    b"bearer",
    b"digest",
    b"token",
    b"negotiate",
    b"ntlm",
    b"hoba",
    b"mutual",
    b"apikey",
    b"dpop",
    b"hawk",
    b"aws4-hmac-sha256",
];

/// The end of a balanced value starting with an opening bracket at `open`
/// (`(`, `[` or `{`): just past its matching closer, skipping quoted
/// strings; the end of the text if it never closes (a cut value).
fn balanced_end(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    let mut in_string = false;
    while i < bytes.len() {
        let b = at(bytes, i);
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    bytes.len()
}

/// If a value starting at `j` is a wrapper (`Some(…)`, `Secret(…)`,
/// `Struct { … }`, `[…]`, `{…}`, `(…)`), the end of the whole of it.
fn wrapped_value_end(bytes: &[u8], j: usize) -> Option<usize> {
    let mut k = j;
    while at(bytes, k).is_ascii_alphanumeric() || matches!(at(bytes, k), b'_' | b':') {
        k += 1;
    }
    if k > j && at(bytes, k) == b' ' && at(bytes, k + 1) == b'{' {
        k += 1;
    }
    match at(bytes, k) {
        b'(' | b'{' if k > j => Some(balanced_end(bytes, k)),
        b'(' | b'[' | b'{' if k == j => Some(balanced_end(bytes, k)),
        _ => None,
    }
}

/// How many backslashes end `bytes[..i]`.
fn backslashes_before(bytes: &[u8], i: usize) -> usize {
    bytes
        .get(..i)
        .unwrap_or_default()
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
}

/// The end of a quoted value whose opening quote (`quote`, preceded by
/// `escapes` backslashes) ends just before `start`: the index where the
/// matching closing quote's escapes begin.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, escapes: usize) -> usize {
    let mut end = start;
    while end < bytes.len() {
        let b = at(bytes, end);
        if escapes == 0 {
            if b == b'\\' {
                end += 2;
                continue;
            }
            if b == quote {
                return end;
            }
        } else if b == quote && backslashes_before(bytes, end) == escapes {
            return end - escapes;
        }
        end += 1;
    }
    bytes.len()
}

/// Replaces the value after each `name:` / `name=` whose name is
/// sensitive, and the contents of each sensitive newtype `Name(…)`.
///
/// Names may be quoted (`"name":`, `'name'=`) or quoted with escapes, as
/// JSON is inside `Debug` output of a string (`\"name\":\"value\"`).
/// Values are a quoted string (same quoting), a wrapper kept whole
/// (`Some("…")`, `Secret("…")`, `[104, 117]`, `Struct { … }`), an
/// authentication scheme with its credentials (`Basic …`), or a bare word.
pub(super) fn replace_key_values(
    text: &str,
    is_sensitive: impl Fn(&str) -> bool,
    mut replace: impl FnMut(&str) -> String,
) -> Rewritten {
    // Bytes of non-ASCII characters count as name bytes: names in any
    // script are found whole, and a name never starts inside a character.
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') || b >= 0x80;
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    while i < bytes.len() {
        if !is_name(at(bytes, i)) || (i > 0 && is_name(at(bytes, i - 1))) {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < bytes.len() && is_name(at(bytes, i)) {
            i += 1;
        }
        let name = sub(text, name_start, i);
        // A sensitive newtype, `Secret("…")`: its contents go.
        if at(bytes, i) == b'(' && at(bytes, name_start).is_ascii_uppercase() && is_sensitive(name)
        {
            let end = balanced_end(bytes, i);
            let inner_end = if at(bytes, end.saturating_sub(1)) == b')' && end > i + 1 {
                end - 1
            } else {
                end
            };
            if inner_end > i + 1 {
                rw.replace(i + 1, inner_end, &replace(sub(text, i + 1, inner_end)));
                i = inner_end;
            }
            continue;
        }
        // `name`, `"name"`, `'name'` or `\"name\"`, then `:` or `=`, then the value.
        let mut j = i;
        while at(bytes, j) == b'\\' {
            j += 1;
        }
        if matches!(at(bytes, j), b'"' | b'\'') {
            j += 1;
        } else {
            j = i;
        }
        while at(bytes, j) == b' ' {
            j += 1;
        }
        let separator = at(bytes, j);
        if !matches!(separator, b':' | b'=') {
            continue;
        }
        if !is_sensitive(name) {
            continue;
        }
        j += 1;
        while matches!(at(bytes, j), b' ' | b'\t') {
            j += 1;
        }
        let mut escapes = 0;
        while at(bytes, j + escapes) == b'\\' {
            escapes += 1;
        }
        let (start, end) = if let q @ (b'"' | b'\'') = at(bytes, j + escapes)
            && (escapes == 0 || q == b'"')
        {
            let start = j + escapes + 1;
            (start, quoted_end(bytes, start, q, escapes))
        } else if let Some(end) = wrapped_value_end(bytes, j) {
            (j, end)
        } else {
            // `name=value` ends at a space (query strings, logfmt);
            // `Name: value` runs to the end of the line (HTTP headers:
            // `Authorization: Bearer …` loses both words).
            let ends = |b: u8| {
                matches!(
                    b,
                    b',' | b'}' | b')' | b']' | b';' | b'&' | b'"' | b'\n' | b'\r' | b'\\' | 0
                ) || (separator == b'=' && b.is_ascii_whitespace())
            };
            let mut end = j;
            while end < bytes.len() && !ends(at(bytes, end)) {
                end += 1;
            }
            let word = bytes.get(j..end).unwrap_or_default();
            if separator == b'='
                && at(bytes, end) == b' '
                && AUTH_SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
            {
                let mut k = end;
                while at(bytes, k) == b' ' {
                    k += 1;
                }
                while is_token_byte(at(bytes, k)) {
                    k += 1;
                }
                end = k;
            }
            while end > j && at(bytes, end - 1) == b' ' {
                end -= 1;
            }
            (j, end)
        };
        if end > start {
            rw.replace(start, end, &replace(sub(text, start, end)));
            i = end;
        }
    }
    rw.finish()
}

/// Replaces each email address.
pub(super) fn replace_email(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let is_local =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let is_domain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    for (sign, _) in text.match_indices('@') {
        if sign < rw.copied {
            continue;
        }
        let mut start = sign;
        while start > rw.copied && is_local(at(bytes, start - 1)) {
            start -= 1;
        }
        let mut end = sign + 1;
        while end < bytes.len() && is_domain(at(bytes, end)) {
            end += 1;
        }
        // Trailing dots end a sentence, not the domain.
        while end > sign + 1 && at(bytes, end - 1) == b'.' {
            end -= 1;
        }
        let domain = sub(text, sign + 1, end);
        // `ssh://git@host`: a URL's user, not an address.
        let url_user = start >= 3 && bytes.get(start - 3..start) == Some(b"://".as_slice());
        let valid = !url_user
            && start < sign
            && domain.contains('.')
            && !domain.starts_with('.')
            && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2);
        if valid {
            rw.replace(start, end, &replace(sub(text, start, end)));
        }
    }
    rw.finish()
}

/// Replaces the password of each URL's userinfo
/// (`scheme://user:password@host`): scheme, user and host stay.
pub(super) fn replace_url_credentials(
    text: &str,
    mut replace: impl FnMut(&str) -> String,
) -> Rewritten {
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    for (mark, _) in text.match_indices("://") {
        let scheme_ok = mark > 0 && at(bytes, mark - 1).is_ascii_alphanumeric();
        let authority = mark + 3;
        if !scheme_ok || authority < rw.copied {
            continue;
        }
        let mut end = authority;
        while end < bytes.len()
            && !matches!(
                at(bytes, end),
                b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`'
            )
            && !at(bytes, end).is_ascii_whitespace()
        {
            end += 1;
        }
        let host = bytes.get(authority..end).unwrap_or_default();
        let Some(sign) = host.iter().rposition(|&b| b == b'@') else {
            continue;
        };
        let Some(colon) = host.iter().take(sign).position(|&b| b == b':') else {
            continue;
        };
        let (start, stop) = (authority + colon + 1, authority + sign);
        if stop > start {
            rw.replace(start, stop, &replace(sub(text, start, stop)));
        }
    }
    rw.finish()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // Tests index their own fixtures.
mod tests {
    use super::*;

    #[test]
    fn short_texts_find_every_at_and_separator() {
        for len in 6..13 {
            for pos in 0..len {
                for mark in [b'@', b':', b'=', b'(', b'x'] {
                    let mut text = vec![b'a'; len];
                    text[pos] = mark;
                    let text = String::from_utf8(text).unwrap();
                    let hints = Hints::of(&text);
                    assert_eq!(hints.at, mark == b'@', "{text}");
                    assert_eq!(
                        hints.separator,
                        matches!(mark, b':' | b'=' | b'('),
                        "{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(
            base64_decode(b"YWxhZGRpbjpvcGVuc2VzYW1l").unwrap(),
            b"aladdin:opensesame"
        );
        assert_eq!(base64_decode(b"YTpi").unwrap(), b"a:b");
        assert_eq!(base64_decode(b"YTpiYw==").unwrap(), b"a:bc");
        assert_eq!(base64_decode(b"YTpiYw").unwrap(), b"a:bc");
        assert!(base64_decode(b"YTpiY").is_none());
        assert!(base64_decode(b"a!bc").is_none());
    }

    #[test]
    fn cards_in_runs_of_groups() {
        let mask = |d: &str| format!("<{d}>");
        let cases = [
            ("4111111111111111 12 27 123", "<4111111111111111> 12 27 123"),
            ("4111 1111 1111 1111 123", "<4111111111111111> 123"),
            ("ref 7 4111111111111111", "ref 7 <4111111111111111>"),
            // Leftmost, then longest: a number a space before may go with it.
            ("ref 42 4111111111111111", "ref <424111111111111111>"),
            ("card4111111111111111", "card<4111111111111111>"),
            ("4111111111111111exp", "<4111111111111111>exp"),
            // Hexadecimal words keep their digit runs.
            ("ab4111111111111111cd", "ab4111111111111111cd"),
            ("41111111111111110000", "41111111111111110000"),
        ];
        for (input, want) in cases {
            assert_eq!(
                replace_cards(input, mask).map_or_else(|| input.to_owned(), |(out, _)| out),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn url_credentials() {
        let r = |t: &str| {
            replace_url_credentials(t, |_| "***".into())
                .map_or_else(|| t.to_owned(), |(out, _)| out)
        };
        assert_eq!(r("https://u:pw@host/x"), "https://u:***@host/x");
        assert_eq!(
            r("postgres://app:p@ss@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(r("redis://:pw@cache"), "redis://:***@cache");
        assert_eq!(r("ssh://git@github.com/x"), "ssh://git@github.com/x");
        assert_eq!(r("https://host/a?to=x@y.com"), "https://host/a?to=x@y.com");
        assert_eq!(r("://u:p@h"), "://u:p@h");
    }
}
