//! File names the rolling file owns: `<prefix>.<stamp>[.<n>].<suffix>[.gz]`.
//!
//! Retention deletes only names that parse here, so files of other programs
//! (or of another prefix) in the same directory are never touched.

use std::time::SystemTime;

use crate::clock;

/// Extension of compressed files.
pub(crate) const GZ: &str = "gz";
/// Extension of files being compressed; renamed away when complete.
pub(crate) const TMP: &str = "tmp";
/// Extension of a compressed file's block index (`<file>.gz.idx`).
pub(crate) const IDX: &str = "idx";
/// The index while it is written: `<file>.ix.tmp`, as long as
/// `<file>.gz.tmp`, so every name stays within the 255-byte limit.
pub(crate) const IDX_TMP: &str = "ix.tmp";

/// A parsed owned file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owned {
    /// When the file was opened (UTC, from the name).
    pub(crate) stamp: SystemTime,
    /// Collision counter: 0 when absent.
    pub(crate) n: u32,
    /// Whether it ends in `.gz`.
    pub(crate) compressed: bool,
}

/// `<prefix>.<stamp>[.<n>].<suffix>`: `n` is omitted when 0 and zero-padded to
/// three digits otherwise, so names of one millisecond still sort as text.
pub(crate) fn file_name(prefix: &str, stamp: SystemTime, n: u32, suffix: &str) -> String {
    let stamp = clock::file_stamp(stamp);
    if n == 0 {
        format!("{prefix}.{stamp}.{suffix}")
    } else {
        format!("{prefix}.{stamp}.{n:03}.{suffix}")
    }
}

/// Parses a name this prefix and suffix produced (compressed or not).
pub(crate) fn parse(name: &str, prefix: &str, suffix: &str) -> Option<Owned> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let (rest, compressed) = match rest.strip_suffix(GZ).and_then(|r| r.strip_suffix('.')) {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let rest = rest.strip_suffix(suffix)?.strip_suffix('.')?;
    let stamp_str = rest.get(..clock::STAMP_LEN)?;
    let stamp = clock::parse_file_stamp(stamp_str)?;
    let tail = &rest[clock::STAMP_LEN..];
    let n = if tail.is_empty() {
        0
    } else {
        let digits = tail.strip_prefix('.')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()?
    };
    Some(Owned {
        stamp,
        n,
        compressed,
    })
}

/// The prefix and suffix of a name some rolling file gave, compressed or
/// not, whatever its prefix (dots and all). The prefix may hold dots: the
/// stamp is the first part after a dot that parses as one.
pub(crate) fn family_of(name: &str) -> Option<(&str, &str)> {
    let plain = name
        .strip_suffix(GZ)
        .and_then(|r| r.strip_suffix('.'))
        .unwrap_or(name);
    for (dot, _) in plain.match_indices('.') {
        let (Some(prefix), Some(rest)) = (plain.get(..dot), plain.get(dot + 1..)) else {
            continue;
        };
        let Some(after) = rest
            .get(clock::STAMP_LEN..)
            .and_then(|a| a.strip_prefix('.'))
        else {
            continue;
        };
        let stamped = rest
            .get(..clock::STAMP_LEN)
            .and_then(clock::parse_file_stamp)
            .is_some();
        if prefix.is_empty() || !stamped {
            continue;
        }
        let suffix = match after.split_once('.') {
            Some((digits, suffix))
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                suffix
            }
            _ => after,
        };
        // A suffix ending in `gz` or `tmp` would make compressed and
        // temporary files look like files of their own.
        let own =
            |ext: &str| suffix == ext || suffix.strip_suffix(ext).is_some_and(|s| s.ends_with('.'));
        if !suffix.is_empty()
            && !suffix.starts_with('.')
            && !own(GZ)
            && !own(TMP)
            && !own(IDX)
            && parse(name, prefix, suffix).is_some()
        {
            return Some((prefix, suffix));
        }
    }
    None
}

/// Whether `name` is a leftover temporary file of an interrupted
/// compression (the `.gz` or its index).
pub(crate) fn is_stale_tmp(name: &str, prefix: &str, suffix: &str) -> bool {
    let of = |ext: &str| {
        name.strip_suffix(ext)
            .and_then(|r| r.strip_suffix('.'))
            .and_then(|r| parse(r, prefix, suffix))
    };
    of(TMP).is_some_and(|owned| owned.compressed) || of(IDX_TMP).is_some_and(|o| !o.compressed)
}

/// The compressed file an index names (`<file>.gz.idx` → `<file>.gz`), if
/// this prefix and suffix own it.
pub(crate) fn indexed(name: &str, prefix: &str, suffix: &str) -> Option<Owned> {
    name.strip_suffix(IDX)
        .and_then(|r| r.strip_suffix('.'))
        .and_then(|r| parse(r, prefix, suffix))
        .filter(|owned| owned.compressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn names_round_trip_and_sort() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_596_607_123);
        let a = file_name("app", t, 0, "jsonl");
        assert_eq!(a, "app.20261125T085007.123Z.jsonl");
        let b = file_name("app", t, 2, "jsonl");
        assert_eq!(b, "app.20261125T085007.123Z.002.jsonl");
        assert_eq!(
            parse(&a, "app", "jsonl"),
            Some(Owned {
                stamp: t,
                n: 0,
                compressed: false
            })
        );
        let gz = format!("{b}.gz");
        assert_eq!(
            parse(&gz, "app", "jsonl"),
            Some(Owned {
                stamp: t,
                n: 2,
                compressed: true
            })
        );
        let later = file_name("app", t + Duration::from_millis(1), 0, "jsonl");
        assert!(later > a);
    }

    #[test]
    fn foreign_names_are_not_owned() {
        for name in [
            "app.jsonl",
            "app.20261125T085007.123Z.log",
            "api.20261125T085007.123Z.jsonl",
            "app.x.20261125T085007.123Z.jsonl",
            "app.20261125T085007.123Z.jsonl.gz.tmp",
            "app.20261125T085007.123Z..jsonl",
            "app.20261125T085007.123Z.0a.jsonl",
            "app.20261125T085007.123Z.jsonl.zst",
            "notes.txt",
        ] {
            assert_eq!(parse(name, "app", "jsonl"), None, "{name}");
        }
        assert!(is_stale_tmp(
            "app.20261125T085007.123Z.jsonl.gz.tmp",
            "app",
            "jsonl"
        ));
        assert!(!is_stale_tmp(
            "app.20261125T085007.123Z.jsonl.tmp",
            "app",
            "jsonl"
        ));
        assert!(is_stale_tmp(
            "app.20261125T085007.123Z.jsonl.ix.tmp",
            "app",
            "jsonl"
        ));
        assert!(indexed("app.20261125T085007.123Z.jsonl.gz.idx", "app", "jsonl").is_some());
        assert!(indexed("app.20261125T085007.123Z.jsonl.idx", "app", "jsonl").is_none());
        assert_eq!(
            parse("app.20261125T085007.123Z.jsonl.gz.idx", "app", "jsonl"),
            None
        );
        assert_eq!(family_of("app.20261125T085007.123Z.jsonl.gz.idx"), None);
        assert!(!is_stale_tmp(
            "other.20261125T085007.123Z.jsonl.gz.tmp",
            "app",
            "jsonl"
        ));
    }

    #[test]
    fn any_owned_name_tells_its_prefix_and_suffix() {
        assert_eq!(
            family_of("my.app.20261125T085007.123Z.jsonl"),
            Some(("my.app", "jsonl"))
        );
        assert_eq!(
            family_of("x.20261125T085007.123Z.007.log.gz"),
            Some(("x", "log"))
        );
        for foreign in [
            "app.jsonl",
            "app.20261125T085007.123Z",
            "20261125T085007.123Z.jsonl",
            "app.20261125T085007.123Z..jsonl",
            "app.20261125T085007.123Z.jsonl.gz.tmp",
            ".app.jsonl.link",
            "app.2026112xT085007.123Z.jsonl",
            "é",
        ] {
            assert_eq!(family_of(foreign), None, "{foreign}");
        }
    }
}
