//! Blocked gzip and its sidecar index: how rotated files are compressed so
//! that a reader can skip what cannot match and inflate the rest in
//! parallel.
//!
//! ```text
//!  x.jsonl ─ compress ─▶ x.jsonl.gz      member 0 │ member 1 │ … (each a whole gzip file,
//!                │                                 cut at a line end, ≤ block size + 1 line)
//!                └────▶ x.jsonl.gz.idx   per member: where, how long, lines, time range,
//!                                         levels / event names / types, id filter
//! ```
//!
//! **Compatibility.** A blocked `.gz` is an ordinary multi-member gzip file:
//! `zcat`, `gzip -d`, DuckDB's `read_json`, flate2's `MultiGzDecoder` and
//! [`read::open`](crate::read::open) read it whole. Readers that know the
//! index use it; old files without one, or with one that does not check out
//! against its file, read as before, only slower.
//!
//! # The index file, version 1
//!
//! `<file>.gz.idx`, all integers little-endian, `varint` = LEB128 (u64):
//!
//! | bytes | |
//! |---|---|
//! | 8 | magic `EVLOGIDX` |
//! | 2 | version, `1` |
//! | 2 | flags, `0` |
//! | 4 | body length `n` |
//! | n | body |
//! | 4 | CRC-32 (gzip's) of everything before it |
//!
//! Body: the `.gz` file's size (u64); the block size it was cut at (u32);
//! a string table (varint count, then each as varint length + UTF-8); a
//! varint block count, then per block, members in file order from offset 0
//! (each block's offset is the sum of the lengths before it):
//!
//! - varints: compressed length, uncompressed length, lines, longest line
//!   (bytes, without the `\n`); u32: the member's CRC-32 (as in its gzip trailer);
//! - u8 flags: bit 0 *known* (every line was read as described below; if
//!   clear, the rest says nothing and readers must inflate the block),
//!   bit 1 *timed* (the time range follows);
//! - if timed: min and max timestamp, each i64 seconds + u32 nanoseconds since the epoch;
//! - three value sets, `level`, `event_name`, `event_type`: u8 tag `0` then
//!   a varint count and that many string-table indices (the exact set), or
//!   tag `1`: any value;
//! - the id filter, of the string values of `trace_id`, `request_id`,
//!   `correlation_id` and `session_id`: tag `0`, varint word count `w`,
//!   u8 hash count `k`, `w` u64 words (a Bloom filter; `w = 0`: no ids), or
//!   tag `1`: any id.
//!
//! A block is *known* when each of its lines is a JSON object within a
//! strict subset (UTF-8, no exponents, no surrogate escapes, no escapes in
//! keys, nesting ≤ 64, not blank). A set then holds the *last* top-level
//! string value of its key in each line (a key absent or holding a
//! non-string adds nothing); a value with escapes makes the set *any*. The
//! time range covers the last top-level `timestamp` strings; it is absent
//! when one is not `YYYY-MM-DDTHH:MM:SS[.f]Z`. Hashes are FNV-1a 64 of the
//! id's bytes, mixed by SplitMix64; bit `i` of `k` is `(h + i·(h>>32|1)) mod 64w`.
//!
//! Readers must check the index against the file ([`BlockIndex::open`]
//! does): the magic, the version, the CRC, the file size, and each
//! member's gzip header and trailer (CRC-32 and length) at the offsets
//! given. Any mismatch: ignore the index.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::extract::{self, Val};

/// The uncompressed size a block is cut at (the line that crosses it ends
/// the block): 1 MiB measured as well as 2 or 4 (within 0.3 % in size and 3 % in
/// write speed, the appender bench) while giving readers more blocks to skip and share.
///
/// ```
/// assert_eq!(eventlog_appender::blocks::DEFAULT_BLOCK_BYTES, 1 << 20);
/// ```
pub const DEFAULT_BLOCK_BYTES: usize = 1 << 20;

/// The format version written and read.
///
/// ```
/// assert_eq!(eventlog_appender::blocks::INDEX_VERSION, 1);
/// ```
pub const INDEX_VERSION: u16 = 1;

/// The keys whose string values the id filter holds.
///
/// ```
/// assert_eq!(eventlog_appender::blocks::ID_KEYS[0], "trace_id");
/// ```
pub const ID_KEYS: [&str; 4] = ["trace_id", "request_id", "correlation_id", "session_id"];

const MAGIC: &[u8; 8] = b"EVLOGIDX";
/// An index longer than this is not read (a real one is ~1 % of its file).
const MAX_INDEX_BYTES: u64 = 256 << 20;
/// Distinct strings a file's table holds; a value past it makes its set *any*.
const MAX_STRINGS: usize = 4096;
/// Bytes of strings a file's table holds.
const MAX_STRING_BYTES: usize = 256 << 10;
/// Longer values are not put in the table (their set becomes *any*).
const MAX_VALUE: usize = 256;
/// Bloom filter hashes, and bits per id: about 2 % false positives, for an
/// index about 4 % of its file when every line has ids of its own.
const BLOOM_K: u8 = 6;
const BLOOM_BITS_PER_ID: usize = 8;
/// gzip's header start: magic and deflate.
const GZIP_HEAD: [u8; 3] = [0x1f, 0x8b, 0x08];
/// The smallest gzip member: 10 bytes of header, 2 of empty deflate, 8 of trailer.
const MIN_MEMBER: u64 = 20;
/// Bytes read from the plain file at a time.
const READ_CHUNK: usize = 256 << 10;

/// Why an index was not used. Every reader treats each as "no index".
///
/// ```
/// use eventlog_appender::blocks::{BlockIndex, IndexError};
///
/// assert!(matches!(BlockIndex::from_bytes(b"nope"), Err(IndexError::Truncated)));
/// assert_eq!(IndexError::Version(9).to_string(), "index version 9, not 1");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// There is no index file, or it could not be read.
    #[error("cannot read index {}", .path.display())]
    Read {
        /// The index file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// It ends before its own lengths say.
    #[error("index cut short")]
    Truncated,
    /// Not an index (wrong magic).
    #[error("not an index")]
    Magic,
    /// Written by another version of the format.
    #[error("index version {0}, not {INDEX_VERSION}")]
    Version(u16),
    /// Its checksum does not match its bytes.
    #[error("index checksum mismatch")]
    Checksum,
    /// Its content breaks the format (an index out of range, bytes left over, …).
    #[error("index malformed: {0}")]
    Malformed(&'static str),
    /// It describes another file (size, or a member's header or trailer, differ).
    #[error("index does not match its file: {0}")]
    Mismatch(&'static str),
}

/// The ids of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ids {
    Bloom { k: u8, words: Vec<u64> },
    Any,
}

/// A key whose values a block records.
///
/// ```
/// use eventlog_appender::blocks::Field;
///
/// assert_eq!(Field::ALL.map(Field::key), ["level", "event_name", "event_type"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `level`.
    Level,
    /// `event_name`.
    EventName,
    /// `event_type`.
    EventType,
}

impl Field {
    /// Every field, in index order.
    pub const ALL: [Field; 3] = [Field::Level, Field::EventName, Field::EventType];

    /// The top-level key.
    pub fn key(self) -> &'static str {
        match self {
            Field::Level => "level",
            Field::EventName => "event_name",
            Field::EventType => "event_type",
        }
    }
}

/// A timestamp as the index holds it: seconds and nanoseconds since the epoch.
pub type Instant = (i64, u32);

/// One gzip member of a blocked file, and what its lines hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    offset: u64,
    compressed: u64,
    uncompressed: u64,
    lines: u64,
    longest_line: u64,
    crc: u32,
    known: bool,
    time: Option<(Instant, Instant)>,
    /// Indices into `strings`, or `None`: any value.
    sets: [Option<Vec<u32>>; 3],
    ids: Ids,
    strings: Arc<[String]>,
}

impl Block {
    /// Where the member starts in the `.gz` file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The member's length in the `.gz` file.
    pub fn compressed_len(&self) -> u64 {
        self.compressed
    }

    /// Its bytes once inflated.
    pub fn uncompressed_len(&self) -> u64 {
        self.uncompressed
    }

    /// Its lines (a last one without `\n` counted).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Its longest line, in bytes, without the `\n`.
    pub fn longest_line(&self) -> u64 {
        self.longest_line
    }

    /// Whether every line was read (see the [module docs](self)): if not,
    /// nothing else is known about the block, and a reader must inflate it.
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// The earliest and latest `timestamp`, if known; `None` says nothing.
    pub fn time_range(&self) -> Option<(Instant, Instant)> {
        self.time.filter(|_| self.known)
    }

    /// The exact set of `field` values its lines hold (in no particular
    /// order), if known.
    pub fn values(&self, field: Field) -> Option<impl Iterator<Item = &str>> {
        let set = self
            .sets
            .get(field as usize)?
            .as_ref()
            .filter(|_| self.known)?;
        Some(
            set.iter()
                .filter_map(|&i| self.strings.get(i as usize).map(String::as_str)),
        )
    }

    /// Whether some line may hold a `field` string value for which `test`
    /// holds: `false` only when none does.
    pub fn may_have(&self, field: Field, test: impl Fn(&str) -> bool) -> bool {
        match self.values(field) {
            Some(mut values) => values.any(test),
            None => true,
        }
    }

    /// Whether some line may hold `id` as its `trace_id`, `request_id`,
    /// `correlation_id` or `session_id`: `false` only when none does.
    pub fn may_have_id(&self, id: &str) -> bool {
        if !self.known {
            return true;
        }
        match &self.ids {
            Ids::Any => true,
            Ids::Bloom { k, words } => bloom_has(words, *k, hash(id.as_bytes())),
        }
    }
}

/// The index of a blocked gzip file: its blocks in file order.
///
/// ```
/// use eventlog_appender::blocks::{self, BlockIndex, Field};
///
/// let plain = b"{\"timestamp\":\"2026-11-25T08:47:36Z\",\"level\":\"INFO\",\"event_name\":\"order_placed\",\"trace_id\":\"t1\"}\n";
/// let mut gz = Vec::new();
/// let index = blocks::compress(&plain[..], &mut gz, blocks::DEFAULT_BLOCK_BYTES)?;
/// assert_eq!(BlockIndex::from_bytes(&index.to_bytes())?, index);
/// assert_eq!(index.file_size(), gz.len() as u64);
/// let block = &index.blocks()[0];
/// assert_eq!((block.lines(), block.offset(), block.compressed_len()), (1, 0, gz.len() as u64));
/// assert!(block.may_have(Field::EventName, |n| n == "order_placed"));
/// assert!(!block.may_have(Field::Level, |l| l == "ERROR"));
/// assert!(block.may_have_id("t1"));
/// assert_eq!(block.time_range(), Some(((1_795_596_456, 0), (1_795_596_456, 0))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockIndex {
    file_size: u64,
    block_bytes: u32,
    strings: Arc<[String]>,
    blocks: Vec<Block>,
}

/// `<gz>.idx`: where the index of a `.gz` file is.
///
/// ```
/// use std::path::Path;
///
/// assert_eq!(
///     eventlog_appender::blocks::index_path(Path::new("logs/app.20261125T085007.123Z.jsonl.gz")),
///     Path::new("logs/app.20261125T085007.123Z.jsonl.gz.idx"),
/// );
/// ```
pub fn index_path(gz: &Path) -> PathBuf {
    let mut s = gz.as_os_str().to_owned();
    s.push(".");
    s.push(crate::naming::IDX);
    PathBuf::from(s)
}

impl BlockIndex {
    /// The blocks, in file order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The `.gz` file's size it describes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The uncompressed size blocks were cut at.
    pub fn block_bytes(&self) -> u32 {
        self.block_bytes
    }

    /// The index of the open `.gz` file `gz` (named `gz_path`), read from
    /// [`index_path`] and checked against the file: any error means "read
    /// the file without it".
    ///
    /// ```
    /// use eventlog_appender::blocks::{self, BlockIndex, IndexError};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let gz_path = dir.path().join("a.jsonl.gz");
    /// let mut gz = Vec::new();
    /// let index = blocks::compress(&b"{}\n{}\n"[..], &mut gz, 1)?;
    /// std::fs::write(&gz_path, &gz)?;
    /// let file = std::fs::File::open(&gz_path)?;
    /// assert!(matches!(BlockIndex::open(&gz_path, &file), Err(IndexError::Read { .. })));
    /// std::fs::write(blocks::index_path(&gz_path), index.to_bytes())?;
    /// assert_eq!(BlockIndex::open(&gz_path, &file)?.blocks().len(), 2);
    /// std::fs::write(&gz_path, [&gz[..], &gz[..]].concat())?; // another file now
    /// let file = std::fs::File::open(&gz_path)?;
    /// assert!(matches!(BlockIndex::open(&gz_path, &file), Err(IndexError::Mismatch(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(gz_path: &Path, gz: &File) -> Result<BlockIndex, IndexError> {
        let path = index_path(gz_path);
        let failed = |source| IndexError::Read {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(failed)?;
        let mut bytes = Vec::new();
        file.take(MAX_INDEX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(failed)?;
        if bytes.len() as u64 > MAX_INDEX_BYTES {
            return Err(IndexError::Malformed("longer than 256 MiB"));
        }
        let index = BlockIndex::from_bytes(&bytes)?;
        index.check(gz)?;
        Ok(index)
    }

    /// Checks the index against its `.gz` file: the size, and each
    /// member's gzip header and trailer where the index puts them.
    ///
    /// # Errors
    /// [`IndexError::Mismatch`] when anything differs, [`IndexError::Read`]
    /// when the file cannot be read.
    pub fn check(&self, gz: &File) -> Result<(), IndexError> {
        let io = |source| IndexError::Read {
            path: PathBuf::new(),
            source,
        };
        let size = gz.metadata().map_err(io)?.len();
        if size != self.file_size {
            return Err(IndexError::Mismatch("file size"));
        }
        for block in &self.blocks {
            let mut head = [0u8; 3];
            read_exact_at(gz, &mut head, block.offset).map_err(io)?;
            if head != GZIP_HEAD {
                return Err(IndexError::Mismatch("gzip member header"));
            }
            let mut tail = [0u8; 8];
            read_exact_at(gz, &mut tail, block.offset + block.compressed - 8).map_err(io)?;
            let mut want = [0u8; 8];
            want[..4].copy_from_slice(&block.crc.to_le_bytes());
            #[allow(clippy::cast_possible_truncation)] // gzip keeps the length mod 2^32
            want[4..].copy_from_slice(&(block.uncompressed as u32).to_le_bytes());
            if tail != want {
                return Err(IndexError::Mismatch("gzip member trailer"));
            }
        }
        Ok(())
    }

    /// The index file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&self.file_size.to_le_bytes());
        body.extend_from_slice(&self.block_bytes.to_le_bytes());
        varint(&mut body, self.strings.len() as u64);
        for s in self.strings.iter() {
            varint(&mut body, s.len() as u64);
            body.extend_from_slice(s.as_bytes());
        }
        varint(&mut body, self.blocks.len() as u64);
        for b in &self.blocks {
            for n in [b.compressed, b.uncompressed, b.lines, b.longest_line] {
                varint(&mut body, n);
            }
            body.extend_from_slice(&b.crc.to_le_bytes());
            body.push(u8::from(b.known) | (u8::from(b.time.is_some()) << 1));
            if let Some((min, max)) = b.time {
                for (s, n) in [min, max] {
                    body.extend_from_slice(&s.to_le_bytes());
                    body.extend_from_slice(&n.to_le_bytes());
                }
            }
            for set in &b.sets {
                match set {
                    Some(ids) => {
                        body.push(0);
                        varint(&mut body, ids.len() as u64);
                        for &i in ids {
                            varint(&mut body, u64::from(i));
                        }
                    }
                    None => body.push(1),
                }
            }
            match &b.ids {
                Ids::Bloom { k, words } => {
                    body.push(0);
                    varint(&mut body, words.len() as u64);
                    body.push(*k);
                    for w in words {
                        body.extend_from_slice(&w.to_le_bytes());
                    }
                }
                Ids::Any => body.push(1),
            }
        }
        let mut out = Vec::with_capacity(body.len() + 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        #[allow(clippy::cast_possible_truncation)] // bounded by the limits above
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses index bytes, checking all but the file they describe (see
    /// [`check`](Self::check)). Never panics, whatever the bytes.
    ///
    /// ```
    /// use eventlog_appender::blocks::{self, BlockIndex, IndexError};
    ///
    /// let mut bytes = blocks::compress(&b"{}\n"[..], &mut Vec::new(), 1 << 20)?.to_bytes();
    /// bytes[20] ^= 1;
    /// assert!(matches!(BlockIndex::from_bytes(&bytes), Err(IndexError::Checksum)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<BlockIndex, IndexError> {
        let mut r = Reader { b: bytes, i: 0 };
        if r.take(8)? != MAGIC {
            return Err(IndexError::Magic);
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != INDEX_VERSION {
            return Err(IndexError::Version(version));
        }
        let _flags = r.array::<2>()?;
        let len = u32::from_le_bytes(r.array()?) as usize;
        let body_end = 16usize.checked_add(len).ok_or(IndexError::Truncated)?;
        let checked = bytes.get(..body_end).ok_or(IndexError::Truncated)?;
        let crc = bytes
            .get(body_end..body_end + 4)
            .ok_or(IndexError::Truncated)?;
        if bytes.len() != body_end + 4 {
            return Err(IndexError::Malformed("bytes after the checksum"));
        }
        if crc32(checked).to_le_bytes() != crc {
            return Err(IndexError::Checksum);
        }
        let mut r = Reader { b: checked, i: 16 };
        let file_size = u64::from_le_bytes(r.array()?);
        let block_bytes = u32::from_le_bytes(r.array()?);
        let count = r.count()?;
        let mut strings = Vec::with_capacity(count);
        for _ in 0..count {
            let n = r.count()?;
            let s = std::str::from_utf8(r.take(n)?)
                .map_err(|_| IndexError::Malformed("a string is not UTF-8"))?;
            strings.push(s.to_owned());
        }
        let strings: Arc<[String]> = strings.into();
        let count = r.count()?;
        let mut blocks = Vec::with_capacity(count);
        let mut offset = 0u64;
        for _ in 0..count {
            let block = read_block(&mut r, offset, &strings)?;
            offset = offset
                .checked_add(block.compressed)
                .ok_or(IndexError::Malformed("lengths overflow"))?;
            blocks.push(block);
        }
        if r.left() != 0 {
            return Err(IndexError::Malformed("bytes after the last block"));
        }
        if offset != file_size {
            return Err(IndexError::Malformed("the blocks do not cover the file"));
        }
        Ok(BlockIndex {
            file_size,
            block_bytes,
            strings,
            blocks,
        })
    }
}

/// One block's entry, at `offset` in the file.
fn read_block(
    r: &mut Reader<'_>,
    offset: u64,
    strings: &Arc<[String]>,
) -> Result<Block, IndexError> {
    let compressed = r.varint()?;
    let uncompressed = r.varint()?;
    let lines = r.varint()?;
    let longest_line = r.varint()?;
    let crc = u32::from_le_bytes(r.array()?);
    let flags = r.array::<1>()?[0];
    if flags & !3 != 0 {
        return Err(IndexError::Malformed("unknown block flags"));
    }
    if compressed < MIN_MEMBER {
        return Err(IndexError::Malformed("a member shorter than gzip allows"));
    }
    let time = if flags & 2 != 0 {
        let mut at = || -> Result<Instant, IndexError> {
            let s = i64::from_le_bytes(r.array()?);
            let n = u32::from_le_bytes(r.array()?);
            if n >= 1_000_000_000 {
                return Err(IndexError::Malformed("nanoseconds out of range"));
            }
            Ok((s, n))
        };
        let (min, max) = (at()?, at()?);
        if min > max {
            return Err(IndexError::Malformed("a time range ends before it starts"));
        }
        Some((min, max))
    } else {
        None
    };
    let mut sets: [Option<Vec<u32>>; 3] = [None, None, None];
    for set in &mut sets {
        *set = match r.array::<1>()?[0] {
            0 => {
                let n = r.count()?;
                let mut ids = Vec::with_capacity(n);
                for _ in 0..n {
                    let i = r.varint()?;
                    if i >= strings.len() as u64 {
                        return Err(IndexError::Malformed("a string index out of range"));
                    }
                    #[allow(clippy::cast_possible_truncation)] // < strings.len()
                    ids.push(i as u32);
                }
                Some(ids)
            }
            1 => None,
            _ => return Err(IndexError::Malformed("unknown set tag")),
        };
    }
    let ids = match r.array::<1>()?[0] {
        0 => {
            let w = r.varint()?;
            let k = r.array::<1>()?[0];
            if k == 0 || k > 32 {
                return Err(IndexError::Malformed("a Bloom filter's hash count"));
            }
            let w = usize::try_from(w)
                .ok()
                .filter(|w| w.saturating_mul(8) <= r.left())
                .ok_or(IndexError::Truncated)?;
            let mut words = Vec::with_capacity(w);
            for _ in 0..w {
                words.push(u64::from_le_bytes(r.array()?));
            }
            Ids::Bloom { k, words }
        }
        1 => Ids::Any,
        _ => return Err(IndexError::Malformed("unknown id filter tag")),
    };
    Ok(Block {
        offset,
        compressed,
        uncompressed,
        lines,
        longest_line,
        crc,
        known: flags & 1 != 0,
        time,
        sets,
        ids,
        strings: Arc::clone(strings),
    })
}

/// Bounded reads of index bytes.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.i)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self.i.checked_add(n).ok_or(IndexError::Truncated)?;
        let s = self.b.get(self.i..end).ok_or(IndexError::Truncated)?;
        self.i = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn varint(&mut self) -> Result<u64, IndexError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let [byte] = self.array::<1>()?;
            let part = u64::from(byte & 0x7f);
            if shift == 63 && part > 1 {
                return Err(IndexError::Malformed("a varint overflows"));
            }
            n |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(IndexError::Malformed("a varint overflows"))
    }

    /// A count of things each at least one byte long: never more than
    /// what is left, so a hostile count cannot allocate.
    fn count(&mut self) -> Result<usize, IndexError> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or(IndexError::Truncated)
    }
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        #[allow(clippy::cast_possible_truncation)] // 7 bits
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    use std::io::Seek as _;
    let mut f = file.try_clone()?;
    f.seek(io::SeekFrom::Start(at))?;
    f.read_exact(buf)
}

/// FNV-1a 64, then SplitMix64's finaliser: ids differ in few bytes.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The bits of `h` in a filter of `bits` bits.
fn bloom_bits(h: u64, k: u8, bits: u64) -> impl Iterator<Item = u64> {
    let step = (h >> 32) | 1;
    (0..u64::from(k)).map(move |i| h.wrapping_add(i.wrapping_mul(step)) % bits)
}

fn bloom_has(words: &[u64], k: u8, h: u64) -> bool {
    if words.is_empty() {
        return false;
    }
    let bits = words.len() as u64 * 64;
    bloom_bits(h, k, bits).all(|bit| {
        words
            .get(usize::try_from(bit / 64).unwrap_or(usize::MAX))
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    })
}

fn bloom_of(hashes: &[u64]) -> Vec<u64> {
    if hashes.is_empty() {
        return Vec::new();
    }
    let words = (hashes.len() * BLOOM_BITS_PER_ID).div_ceil(64).max(1);
    let mut bloom = vec![0u64; words];
    let bits = words as u64 * 64;
    for &h in hashes {
        for bit in bloom_bits(h, BLOOM_K, bits) {
            if let Some(w) = bloom.get_mut(usize::try_from(bit / 64).unwrap_or(usize::MAX)) {
                *w |= 1 << (bit % 64);
            }
        }
    }
    bloom
}

/// The file's string table while compressing.
#[derive(Default)]
struct Table {
    ids: HashMap<String, u32>,
    strings: Vec<String>,
    bytes: usize,
}

impl Table {
    fn id(&mut self, s: &str) -> Option<u32> {
        if let Some(&i) = self.ids.get(s) {
            return Some(i);
        }
        if s.len() > MAX_VALUE
            || self.strings.len() >= MAX_STRINGS
            || self.bytes + s.len() > MAX_STRING_BYTES
        {
            return None;
        }
        let i = u32::try_from(self.strings.len()).ok()?;
        self.ids.insert(s.to_owned(), i);
        self.strings.push(s.to_owned());
        self.bytes += s.len();
        Some(i)
    }
}

/// A block's time range while its lines are gathered.
#[derive(Clone, Copy)]
enum Times {
    None,
    Range(Instant, Instant),
    /// A timestamp not in the strict form: a reader may parse it otherwise.
    Unknown,
}

/// What one block's lines hold, gathered line by line.
struct Gather {
    lines: u64,
    longest: u64,
    known: bool,
    time: Times,
    sets: [Option<Vec<u32>>; 3],
    /// `None`: an id with escapes.
    ids: Option<Vec<u64>>,
}

impl Gather {
    fn new() -> Self {
        Gather {
            lines: 0,
            longest: 0,
            known: true,
            time: Times::None,
            sets: [Some(Vec::new()), Some(Vec::new()), Some(Vec::new())],
            ids: Some(Vec::new()),
        }
    }

    /// A line too long to look at: counted, and the block is unknown.
    fn unread_line(&mut self, len: u64) {
        self.lines += 1;
        self.longest = self.longest.max(len);
        self.known = false;
    }

    fn line(&mut self, line: &[u8], table: &mut Table) {
        self.lines += 1;
        self.longest = self.longest.max(line.len() as u64);
        if !self.known {
            return;
        }
        let Some(f) = extract::fields(line) else {
            self.known = false;
            return;
        };
        self.time = match (self.time, f.timestamp) {
            (t, Val::None) | (t @ Times::Unknown, _) => t,
            (_, Val::Escaped) => Times::Unknown,
            (t, Val::Str(s)) => match (t, extract::utc(s)) {
                (_, None) => Times::Unknown,
                (Times::Range(lo, hi), Some(x)) => Times::Range(lo.min(x), hi.max(x)),
                (_, Some(x)) => Times::Range(x, x),
            },
        };
        for (set, val) in self
            .sets
            .iter_mut()
            .zip([f.level, f.event_name, f.event_type])
        {
            let Some(ids) = set else { continue };
            match val {
                Val::None => {}
                Val::Str(s) => match table.id(s) {
                    Some(i) if ids.contains(&i) => {}
                    Some(i) => ids.push(i),
                    None => *set = None,
                },
                Val::Escaped => *set = None,
            }
        }
        if let Some(hashes) = &mut self.ids {
            for val in f.ids {
                match val {
                    Val::None => {}
                    Val::Str(s) => hashes.push(hash(s.as_bytes())),
                    Val::Escaped => {
                        self.ids = None;
                        break;
                    }
                }
            }
        }
    }

    /// The block, its strings to be set once the table is complete.
    fn finish(self, offset: u64, compressed: u64, uncompressed: u64, crc: u32) -> Block {
        let known = self.known;
        let ids = match self.ids {
            Some(mut hashes) if known => {
                hashes.sort_unstable();
                hashes.dedup();
                Ids::Bloom {
                    k: BLOOM_K,
                    words: bloom_of(&hashes),
                }
            }
            _ => Ids::Any,
        };
        let time = match self.time {
            Times::Range(lo, hi) if known => Some((lo, hi)),
            _ => None,
        };
        Block {
            offset,
            compressed,
            uncompressed,
            lines: self.lines,
            longest_line: self.longest,
            crc,
            known,
            time,
            sets: self.sets.map(|s| s.filter(|_| known)),
            ids,
            strings: Arc::from(Vec::new()),
        }
    }
}

/// A writer that counts what passes and keeps the last 8 bytes (a gzip
/// member's trailer once it is finished).
struct Counting<W> {
    inner: W,
    written: u64,
    tail: [u8; 8],
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or_default();
        if done.len() >= 8 {
            self.tail
                .copy_from_slice(done.get(done.len() - 8..).unwrap_or(&[0; 8]));
        } else {
            self.tail.rotate_left(done.len());
            let keep = 8 - done.len();
            if let Some(t) = self.tail.get_mut(keep..) {
                t.copy_from_slice(done);
            }
        }
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lines longer than this are not looked at (their block is unknown), so
/// memory stays bounded whatever the file holds.
const MAX_LOOKED_AT: usize = 1 << 20;

/// Compresses `input` into `output` as independent gzip members of about
/// `block_bytes` uncompressed bytes each (at least 1; cut after the line
/// that reaches it, so a line is never split), and returns their index.
/// An empty input gives one empty member.
///
/// ```
/// use std::io::Read;
///
/// let plain = "{\"n\":1}\n".repeat(1000);
/// let mut gz = Vec::new();
/// let index = eventlog_appender::blocks::compress(plain.as_bytes(), &mut gz, 4096)?;
/// assert_eq!(index.blocks().len(), 2); // 8000 bytes: 4096 and the rest, cut at a line end
/// assert_eq!(index.blocks().iter().map(|b| b.lines()).sum::<u64>(), 1000);
/// let mut back = String::new();
/// flate2::read::MultiGzDecoder::new(&gz[..]).read_to_string(&mut back)?;
/// assert_eq!(back, plain);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Reading `input` or writing `output` failed.
pub fn compress(
    mut input: impl Read,
    output: impl Write,
    block_bytes: usize,
) -> io::Result<BlockIndex> {
    let block_bytes = block_bytes.max(1) as u64;
    let mut table = Table::default();
    let mut blocks = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    // The line begun in an earlier chunk, and its length so far.
    let mut partial: Vec<u8> = Vec::new();
    let mut partial_len = 0u64;
    let mut member = Member {
        out: Some(Counting {
            inner: output,
            written: 0,
            tail: [0; 8],
        }),
        enc: None,
        start: 0,
        len: 0,
        gather: Gather::new(),
    };
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = chunk.get(..n).unwrap_or_default();
        let (mut pos, mut run) = (0usize, 0usize);
        while let Some(j) = memchr::memchr(b'\n', data.get(pos..).unwrap_or_default()) {
            let end = pos + j;
            let piece = data.get(pos..end).unwrap_or_default();
            if partial_len == 0 {
                member.gather.line(piece, &mut table);
            } else {
                let len = partial_len + piece.len() as u64;
                if len <= MAX_LOOKED_AT as u64 {
                    partial.extend_from_slice(piece);
                    member.gather.line(&partial, &mut table);
                } else {
                    member.gather.unread_line(len);
                }
                partial.clear();
                partial_len = 0;
            }
            pos = end + 1;
            if member.len + (pos - run) as u64 >= block_bytes {
                member.write(data.get(run..pos).unwrap_or_default())?;
                run = pos;
                blocks.push(member.finish()?);
            }
        }
        let rest = data.get(pos..).unwrap_or_default();
        if !rest.is_empty() {
            if partial_len + (rest.len() as u64) <= MAX_LOOKED_AT as u64 {
                partial.extend_from_slice(rest);
            } else {
                // Too long to look at: keep nothing more of it.
                partial = Vec::new();
            }
            partial_len += rest.len() as u64;
        }
        member.write(data.get(run..).unwrap_or_default())?;
    }
    if partial_len > 0 {
        // The last line, without its `\n` (a crash mid-write).
        if partial_len <= MAX_LOOKED_AT as u64 {
            member.gather.line(&partial, &mut table);
        } else {
            member.gather.unread_line(partial_len);
        }
    }
    if member.enc.is_some() || blocks.is_empty() {
        member.begin()?;
        blocks.push(member.finish()?);
    }
    let mut out = member.out.ok_or_else(|| io::Error::other("no output"))?;
    out.flush()?;
    let strings: Arc<[String]> = table.strings.into();
    for b in &mut blocks {
        b.strings = Arc::clone(&strings);
    }
    Ok(BlockIndex {
        file_size: out.written,
        block_bytes: u32::try_from(block_bytes).unwrap_or(u32::MAX),
        strings,
        blocks,
    })
}

/// The member being written: its encoder is made at its first byte, so no
/// empty member follows a cut at the input's end.
struct Member<W: Write> {
    /// The output between members.
    out: Option<Counting<W>>,
    enc: Option<GzEncoder<Counting<W>>>,
    start: u64,
    len: u64,
    gather: Gather,
}

impl<W: Write> Member<W> {
    fn begin(&mut self) -> io::Result<&mut GzEncoder<Counting<W>>> {
        if self.enc.is_none() {
            let out = self
                .out
                .take()
                .ok_or_else(|| io::Error::other("no output"))?;
            self.start = out.written;
            self.enc = Some(GzEncoder::new(out, Compression::default()));
        }
        self.enc
            .as_mut()
            .ok_or_else(|| io::Error::other("no member"))
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.begin()?.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<Block> {
        let enc = self
            .enc
            .take()
            .ok_or_else(|| io::Error::other("no member"))?;
        let out = self.out.insert(enc.finish()?);
        let block = std::mem::replace(&mut self.gather, Gather::new()).finish(
            self.start,
            out.written - self.start,
            self.len,
            u32::from_le_bytes(trailer_crc(out.tail)),
        );
        self.len = 0;
        Ok(block)
    }
}

/// The CRC-32 of a gzip trailer (its first 4 bytes).
fn trailer_crc(tail: [u8; 8]) -> [u8; 4] {
    let [a, b, c, d, ..] = tail;
    [a, b, c, d]
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::format_collect,
    clippy::cast_possible_truncation
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    /// A line as the layer writes it, or (`odd`) one of the lines the
    /// index must not vouch for.
    fn line() -> impl Strategy<Value = String> {
        let good = (
            0i64..4_000_000_000,
            0u32..1_000_000_000,
            prop_oneof![Just("INFO"), Just("WARN"), Just("ERROR"), Just("debug")],
            "[a-c]{1,2}_x",
            prop_oneof![Just("log"), Just("error")],
            "[0-9a-f]{1,4}",
            proptest::option::of("req_[0-9]{1,2}"),
        )
            .prop_map(|(secs, nanos, level, name, ty, trace, req)| {
                let ts = jiff_free_stamp(secs, nanos);
                let req = req.map_or(String::new(), |r| format!(",\"request_id\":\"{r}\""));
                format!(
                    "{{\"timestamp\":\"{ts}\",\"level\":\"{level}\",\"event_name\":\"{name}\",\"event_type\":\"{ty}\",\"trace_id\":\"{trace}\"{req},\"metadata\":{{\"level\":\"TRACE\",\"n\":[1,2.5,null]}}}}"
                )
            });
        prop_oneof![
            8 => good,
            1 => prop_oneof![
                Just(String::new()),
                Just("not json".to_owned()),
                Just("{\"event_name\":\"a\\u0062\"}".to_owned()),
                Just("{\"timestamp\":\"2026-01-01T00:00:00+01:00\",\"event_name\":\"zz\"}".to_owned()),
                Just("{\"level\":5,\"event_name\":\"b_x\",\"event_name\":\"c_x\"}".to_owned()),
                "\\PC{0,20}",
            ],
        ]
    }

    /// RFC 3339 UTC of seconds and nanoseconds, by the civil-from-days algorithm.
    fn jiff_free_stamp(secs: i64, nanos: u32) -> String {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        )
    }

    fn blocked(text: &str, block: usize) -> (Vec<u8>, BlockIndex) {
        let mut gz = Vec::new();
        let index = compress(text.as_bytes(), &mut gz, block).unwrap();
        (gz, index)
    }

    fn inflate(gz: &[u8]) -> String {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(gz), &mut s).unwrap();
        s
    }

    #[test]
    fn an_empty_input_is_one_empty_member() {
        let (gz, index) = blocked("", 1 << 20);
        assert_eq!(index.blocks().len(), 1);
        assert_eq!(index.blocks()[0].lines(), 0);
        assert_eq!(inflate(&gz), "");
        assert_eq!(BlockIndex::from_bytes(&index.to_bytes()).unwrap(), index);
    }

    #[test]
    fn a_line_longer_than_a_chunk_is_counted_and_makes_its_block_unknown() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_LOOKED_AT + READ_CHUNK));
        let text = format!("{{}}\n{long}\n{{}}\nunended");
        let (gz, index) = blocked(&text, 1 << 30);
        assert_eq!(inflate(&gz), text);
        let b = &index.blocks()[0];
        assert_eq!(b.lines(), 4);
        assert_eq!(b.longest_line(), long.len() as u64);
        assert!(!b.is_known());
        assert!(b.may_have(Field::Level, |_| false));
        assert!(b.may_have_id("anything"));
    }

    #[test]
    fn every_truncation_and_bit_flip_of_an_index_is_refused() {
        let text: String = (0..200)
            .map(|i| {
                format!(
                    "{{\"level\":\"INFO\",\"event_name\":\"e{}\",\"trace_id\":\"t{i}\"}}\n",
                    i % 7
                )
            })
            .collect();
        let (_, index) = blocked(&text, 1000);
        let bytes = index.to_bytes();
        for cut in 0..bytes.len() {
            assert!(BlockIndex::from_bytes(&bytes[..cut]).is_err(), "{cut}");
        }
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(BlockIndex::from_bytes(&flipped).is_err(), "{bit}");
        }
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(matches!(
            BlockIndex::from_bytes(&v2),
            Err(IndexError::Version(2))
        ));
    }

    /// Re-sums an index's checksum: a hostile index passes it.
    fn resum(mut bytes: Vec<u8>) -> Vec<u8> {
        let n = bytes.len();
        if n >= 4 {
            let crc = crc32(&bytes[..n - 4]);
            bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any records, any block size: the members inflate to the input,
        /// cover the file, and each known block's sets, time range and ids
        /// hold every value a JSON parser finds in its lines (last key
        /// wins), and no other set value.
        #[test]
        fn blocks_tell_the_truth_about_their_lines(
            lines in proptest::collection::vec(line(), 0..60),
            block in 1usize..3000,
            unended in any::<bool>(),
        ) {
            let mut text: String = lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect();
            if unended && lines.last().is_some_and(|l| !l.is_empty()) {
                text.pop();
            }
            let (gz, index) = blocked(&text, block);
            prop_assert_eq!(inflate(&gz), text.clone());
            prop_assert_eq!(index.file_size(), gz.len() as u64);
            prop_assert_eq!(BlockIndex::from_bytes(&index.to_bytes()).unwrap(), index.clone());
            let mut at = 0usize;
            let mut seen = 0usize;
            for b in index.blocks() {
                prop_assert_eq!(b.offset(), at as u64);
                let member = &gz[at..at + b.compressed_len() as usize];
                at += member.len();
                let plain = inflate(member);
                prop_assert_eq!(plain.len() as u64, b.uncompressed_len());
                let mine: Vec<&str> = if plain.is_empty() { vec![] } else {
                    plain.strip_suffix('\n').unwrap_or(&plain).split('\n').collect()
                };
                prop_assert_eq!(mine.len() as u64, b.lines());
                seen += mine.len();
                if !b.is_known() {
                    continue;
                }
                for l in &mine {
                    let v: Map<String, Value> = serde_json::from_str(l).unwrap();
                    let s = |k: &str| v.get(k).and_then(Value::as_str);
                    for f in Field::ALL {
                        if let Some(x) = s(f.key()) {
                            prop_assert!(b.may_have(f, |y| y == x), "{} {x}", f.key());
                        }
                    }
                    for k in ID_KEYS {
                        if let Some(x) = s(k) {
                            prop_assert!(b.may_have_id(x));
                        }
                    }
                    if let (Some(t), Some((lo, hi))) = (s("timestamp").and_then(extract::utc), b.time_range()) {
                        prop_assert!(lo <= t && t <= hi);
                    }
                }
                for f in Field::ALL {
                    if let Some(values) = b.values(f) {
                        for x in values {
                            let held = mine.iter().any(|l| {
                                serde_json::from_str::<Map<String, Value>>(l).unwrap()
                                    .get(f.key()).and_then(Value::as_str) == Some(x)
                            });
                            prop_assert!(held, "{} {x} held by no line", f.key());
                        }
                    }
                }
            }
            prop_assert_eq!(at, gz.len());
            prop_assert_eq!(seen, lines.len());
        }

        /// Any bytes, and any index with a bit flipped or bytes changed and
        /// its checksum made right again: parsed or refused, never a panic.
        #[test]
        fn hostile_index_bytes_never_panic(
            random in proptest::collection::vec(any::<u8>(), 0..200),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let _ = BlockIndex::from_bytes(&random);
            let _ = BlockIndex::from_bytes(&resum([&MAGIC[..], &[1, 0, 0, 0], &random].concat()));
            let text = "{\"level\":\"INFO\",\"trace_id\":\"a\"}\n".repeat(40);
            let (_, index) = blocked(&text, 300);
            let mut bytes = index.to_bytes();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            if let Ok(parsed) = BlockIndex::from_bytes(&resum(bytes.clone())) {
                for b in parsed.blocks() {
                    let _ = (b.may_have(Field::EventName, |_| true), b.may_have_id("a"), b.time_range());
                }
            }
            let n = bytes.len();
            bytes.truncate(cut.index(n));
            let _ = BlockIndex::from_bytes(&resum(bytes));
        }
    }
}
