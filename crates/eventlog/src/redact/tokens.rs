//! Vendor credentials recognised by their documented prefix, and PEM
//! private-key blocks.
//!
//! The prefixes are the high-confidence, prefix-anchored rules of the
//! default rule sets of gitleaks (`config/gitleaks.toml`) and trufflehog
//! (`pkg/detectors/`), written here as a table rather than regexes: one
//! pass over the text, and at each word start a comparison with the few
//! prefixes that begin with that byte. Rules that need a keyword nearby
//! ("twilio", "heroku") or match bare hex or UUIDs are left out: they are
//! what ids and hashes look like.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use super::detect::{Rewrite, Rewritten, at, sub};

/// Which bytes a token's body is made of.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_-]`
    Word,
    /// `[A-Za-z0-9_.-]`
    Dotted,
    /// `[A-Za-z0-9_/-]` (webhook paths)
    Path,
    /// `[A-Z0-9]`
    Upper,
    /// `[a-fA-F0-9]`
    Hex,
    /// `[A-Za-z0-9+/=_-]`
    Base64,
}

impl Body {
    fn holds(self, b: u8) -> bool {
        match self {
            Body::Alnum => b.is_ascii_alphanumeric(),
            Body::Word => b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'),
            Body::Dotted => b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'),
            Body::Path => b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/'),
            Body::Upper => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Body::Hex => b.is_ascii_hexdigit(),
            Body::Base64 => {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
            }
        }
    }
}

/// One vendor's token shape: prefix, then `min..=max` body bytes.
#[derive(Debug, Clone, Copy)]
struct Shape {
    prefix: &'static [u8],
    body: Body,
    min: usize,
    max: usize,
    /// A marker the body must contain (OpenAI's legacy `T3BlbkFJ`).
    marker: Option<&'static [u8]>,
}

const fn shape(prefix: &'static [u8], body: Body, min: usize, max: usize) -> Shape {
    Shape {
        prefix,
        body,
        min,
        max,
        marker: None,
    }
}

/// The shapes, by vendor. Bodies that end mid-word do not match: the body
/// must be followed by a byte outside its set (or the end of the text).
const SHAPES: &[Shape] = &[
    // AWS access key ids (long-term, temporary, and the other id kinds).
    shape(b"AKIA", Body::Upper, 16, 16),
    shape(b"ASIA", Body::Upper, 16, 16),
    shape(b"ABIA", Body::Upper, 16, 16),
    shape(b"ACCA", Body::Upper, 16, 16),
    // Google API key, OAuth client secret, OAuth access token.
    shape(b"AIza", Body::Word, 35, 35),
    shape(b"GOCSPX-", Body::Word, 28, 28),
    shape(b"ya29.", Body::Word, 30, 2048),
    // age secret key, Atlassian API token.
    shape(b"AGE-SECRET-KEY-1", Body::Upper, 58, 58),
    shape(b"ATATT3", Body::Base64, 100, 300),
    // GitHub: personal, OAuth, user-to-server, server-to-server, refresh,
    // fine-grained personal.
    shape(b"ghp_", Body::Alnum, 36, 36),
    shape(b"gho_", Body::Alnum, 36, 36),
    shape(b"ghu_", Body::Alnum, 36, 36),
    shape(b"ghs_", Body::Alnum, 36, 36),
    shape(b"ghr_", Body::Alnum, 36, 80),
    shape(b"github_pat_", Body::Word, 60, 120),
    // GitLab tokens.
    shape(b"glpat-", Body::Word, 20, 300),
    shape(b"glptt-", Body::Word, 20, 300),
    shape(b"glrt-", Body::Word, 20, 300),
    shape(b"gldt-", Body::Word, 20, 300),
    shape(b"glft-", Body::Word, 20, 300),
    shape(b"glsoat-", Body::Word, 20, 300),
    shape(b"glcbt-", Body::Word, 20, 300),
    shape(b"glimt-", Body::Word, 20, 300),
    shape(b"gloas-", Body::Word, 20, 300),
    // Grafana cloud and service-account tokens.
    shape(b"glc_", Body::Base64, 32, 400),
    shape(b"glsa_", Body::Word, 32, 60),
    // Slack bot, user, workspace, legacy, refresh, config and app tokens.
    shape(b"xoxb-", Body::Word, 10, 300),
    shape(b"xoxp-", Body::Word, 10, 300),
    shape(b"xoxa-", Body::Word, 10, 300),
    shape(b"xoxo-", Body::Word, 10, 300),
    shape(b"xoxs-", Body::Word, 10, 300),
    shape(b"xoxr-", Body::Word, 10, 300),
    shape(b"xoxe-", Body::Word, 10, 300),
    shape(b"xoxe.xoxp-", Body::Word, 10, 300),
    shape(b"xapp-", Body::Word, 20, 300),
    // Slack and Discord webhook URLs (the path is the credential).
    shape(b"hooks.slack.com/services/", Body::Path, 20, 200),
    shape(b"discord.com/api/webhooks/", Body::Path, 20, 200),
    shape(b"discordapp.com/api/webhooks/", Body::Path, 20, 200),
    // Stripe secret and restricted keys, webhook signing secrets.
    shape(b"sk_live_", Body::Alnum, 10, 255),
    shape(b"sk_test_", Body::Alnum, 10, 255),
    shape(b"sk_prod_", Body::Alnum, 10, 255),
    shape(b"rk_live_", Body::Alnum, 10, 255),
    shape(b"rk_test_", Body::Alnum, 10, 255),
    shape(b"rk_prod_", Body::Alnum, 10, 255),
    shape(b"whsec_", Body::Alnum, 24, 100),
    // OpenAI project, service-account and admin keys, Anthropic keys; the
    // legacy `sk-…` form only with OpenAI's marker inside.
    shape(b"sk-proj-", Body::Word, 20, 300),
    shape(b"sk-svcacct-", Body::Word, 20, 300),
    shape(b"sk-admin-", Body::Word, 20, 300),
    shape(b"sk-ant-", Body::Word, 32, 300),
    Shape {
        prefix: b"sk-",
        body: Body::Word,
        min: 40,
        max: 300,
        marker: Some(b"T3BlbkFJ"),
    },
    // npm, PyPI, Hugging Face, Docker Hub.
    shape(b"npm_", Body::Alnum, 36, 36),
    shape(b"pypi-AgEIcHlwaS5vcmc", Body::Word, 50, 300),
    shape(b"hf_", Body::Alnum, 34, 34),
    shape(b"api_org_", Body::Alnum, 34, 34),
    shape(b"dckr_pat_", Body::Word, 27, 60),
    // Shopify access, custom-app, private-app and shared-secret tokens.
    shape(b"shpat_", Body::Hex, 32, 32),
    shape(b"shpca_", Body::Hex, 32, 32),
    shape(b"shppa_", Body::Hex, 32, 32),
    shape(b"shpss_", Body::Hex, 32, 32),
    // SendGrid, DigitalOcean, Postman, Linear, Sentry, Heroku, 1Password,
    // Square.
    shape(b"SG.", Body::Dotted, 66, 66),
    shape(b"dop_v1_", Body::Hex, 64, 64),
    shape(b"doo_v1_", Body::Hex, 64, 64),
    shape(b"dor_v1_", Body::Hex, 64, 64),
    shape(b"PMAK-", Body::Word, 59, 59),
    shape(b"lin_api_", Body::Alnum, 40, 40),
    shape(b"sntrys_", Body::Base64, 50, 400),
    shape(b"sntryu_", Body::Hex, 64, 64),
    shape(b"HRKU-", Body::Word, 60, 60),
    shape(b"ops_eyJ", Body::Base64, 100, 2000),
    shape(b"sq0atp-", Body::Word, 22, 60),
    shape(b"sq0csp-", Body::Word, 40, 60),
];

/// Whether some shape's prefix starts with `b`: a cheap filter per word start.
// Built at compile time: an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing)]
const FIRST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SHAPES.len() {
        if let Some(&b) = SHAPES[i].prefix.first() {
            table[b as usize] = true;
        }
        i += 1;
    }
    table
};

/// For each first byte, the shapes whose prefix starts with it (bit `i` =
/// `SHAPES[i]`), so a word start is compared with those few only (#15: a
/// name like `http_request_completed` compared each word with all 71).
// Built at compile time: an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing)]
const SHAPES_BY_FIRST_BYTE: [u128; 256] = {
    assert!(SHAPES.len() <= 128);
    let mut table = [0u128; 256];
    let mut i = 0;
    while i < SHAPES.len() {
        if let Some(&b) = SHAPES[i].prefix.first() {
            table[b as usize] |= 1 << i;
        }
        i += 1;
    }
    table
};

/// The body of a token starting at `start`, if one of the shapes matches:
/// `(body start, body end)`.
fn token_at(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let rest = bytes.get(start..)?;
    // A `u8` indexes a 256-entry table: always in bounds.
    #[allow(clippy::indexing_slicing)]
    let mut candidates = SHAPES_BY_FIRST_BYTE[usize::from(*rest.first()?)];
    while candidates != 0 {
        let index = candidates.trailing_zeros() as usize;
        candidates &= candidates - 1;
        let Some(shape) = SHAPES.get(index) else {
            break;
        };
        if !rest.starts_with(shape.prefix) {
            continue;
        }
        let body_start = start + shape.prefix.len();
        let mut end = body_start;
        while end - body_start <= shape.max && shape.body.holds(at(bytes, end)) {
            end += 1;
        }
        let len = end - body_start;
        let marked = shape.marker.is_none_or(|m| {
            bytes
                .get(body_start..end)
                .is_some_and(|body| body.windows(m.len()).any(|w| w == m))
        });
        if (shape.min..=shape.max).contains(&len) && marked {
            return Some((body_start, end));
        }
    }
    None
}

/// The shortest token any shape matches (prefix and shortest body): no
/// token starts closer than this to the end of a text.
// Built at compile time: an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing)]
const SHORTEST_TOKEN: usize = {
    let mut shortest = usize::MAX;
    let mut i = 0;
    while i < SHAPES.len() {
        let len = SHAPES[i].prefix.len() + SHAPES[i].min;
        if len < shortest {
            shortest = len;
        }
        i += 1;
    }
    shortest
};

/// Replaces the body of each vendor token; the prefix stays, so a reader
/// still sees what kind of credential was there (`ghp_[REDACTED]`).
pub(super) fn replace_tokens(text: &str, mut replace: impl FnMut(&str) -> String) -> Rewritten {
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    // Past the last place a token fits there is nothing to look at (an
    // event name like `http_request_completed` ends the search at byte 7).
    let last_start = bytes.len().saturating_sub(SHORTEST_TOKEN);
    while i <= last_start && i < bytes.len() {
        let b = at(bytes, i);
        let word_start = i == 0 || !at(bytes, i - 1).is_ascii_alphanumeric();
        // A `u8` indexes a 256-entry table: always in bounds.
        #[allow(clippy::indexing_slicing)]
        let candidate = FIRST_BYTES[usize::from(b)];
        if word_start
            && candidate
            && let Some((start, end)) = token_at(bytes, i)
        {
            rw.replace(start, end, &replace(sub(text, start, end)));
            i = end;
            continue;
        }
        i += 1;
    }
    rw.finish()
}

/// Replaces the body of each PEM private-key block (`-----BEGIN … PRIVATE
/// KEY-----` … `-----END …`, any label holding `PRIVATE KEY`: RSA, EC,
/// DSA, OpenSSH, PKCS#8, encrypted, PGP); the armour lines stay. A block
/// without its end (a cut value) loses everything after its header.
pub(super) fn replace_private_keys(
    text: &str,
    mut replace: impl FnMut(&str) -> String,
) -> Rewritten {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut rw = Rewrite::new(text);
    let mut search = 0;
    while let Some(found) = text.get(search..).and_then(|rest| rest.find(BEGIN)) {
        let label_start = search + found + BEGIN.len();
        let Some(label_len) = text.get(label_start..).and_then(|rest| rest.find(DASHES)) else {
            break;
        };
        let label = sub(text, label_start, label_start + label_len);
        let body_start = label_start + label_len + DASHES.len();
        search = body_start;
        if !label.contains("PRIVATE KEY") || label.len() > 64 {
            continue;
        }
        let body_end = text
            .get(body_start..)
            .and_then(|rest| rest.find("-----END"))
            .map_or(text.len(), |n| body_start + n);
        if body_end > body_start {
            rw.replace(
                body_start,
                body_end,
                &replace(sub(text, body_start, body_end)),
            );
        }
        search = body_end;
    }
    rw.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        replace_tokens(text, |_| "[R]".into()).map_or_else(|| text.to_owned(), |(out, _)| out)
    }

    #[test]
    fn a_token_ending_the_text_is_found_at_the_last_place_it_fits() {
        let shortest = "xoxb-0123456789";
        assert_eq!(shortest.len(), SHORTEST_TOKEN);
        assert_eq!(redact(shortest), "xoxb-[R]");
        assert_eq!(redact(&format!("id {shortest}")), "id xoxb-[R]");
        assert_eq!(redact("xoxb-012345678"), "xoxb-012345678");
    }

    #[test]
    fn the_documented_count_of_shapes() {
        // The README and CHANGELOG say 71: change them with the table.
        assert_eq!(SHAPES.len(), 71);
    }

    #[test]
    fn prefixed_tokens_lose_their_body() {
        let ghp = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(redact(&format!("token {ghp} used")), "token ghp_[R] used");
        assert_eq!(redact("AKIAIOSFODNN7EXAMPLE."), "AKIA[R].");
        assert_eq!(
            redact(&format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc")),
            "sk_live_[R]"
        );
        let legacy = format!("sk-{}T3BlbkFJ{}", "a".repeat(20), "b".repeat(20));
        assert_eq!(redact(&legacy), "sk-[R]");
    }

    #[test]
    fn near_misses_stay() {
        for text in [
            "ghp_short",
            "xghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "AKIAIOSFODNN7EXAMPLEX",
            "sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "risk_live_updates",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn private_key_blocks() {
        let r = |t: &str| {
            replace_private_keys(t, |_| "[R]".into()).map_or_else(|| t.to_owned(), |(out, _)| out)
        };
        assert_eq!(
            r("k=-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- ok"),
            "k=-----BEGIN RSA PRIVATE KEY-----[R]-----END RSA PRIVATE KEY----- ok"
        );
        assert_eq!(
            r("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"),
            "-----BEGIN OPENSSH PRIVATE KEY-----[R]"
        );
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(r(cert), cert);
    }
}
