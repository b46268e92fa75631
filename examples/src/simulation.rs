//! The seeded randomness of the main job: one generator per request, so
//! the same seed gives the same events whichever thread or task runs it.

use std::time::Duration;

/// The bearer token every simulated request carries.
pub const TOKEN: &str = "tok_9f8e7d6c5b4a39281706";

/// One simulated request: its ids and its random outcomes.
#[derive(Debug)]
pub struct Request {
    /// Its number, from which every outcome follows.
    pub n: u64,
    /// `req_000123`: the `X-Request-ID` the load generator sends.
    pub id: String,
    /// The session it belongs to.
    pub session: String,
    /// The user who logs in.
    pub user: String,
    /// A caller's W3C `traceparent`, for about a quarter of the requests.
    pub traceparent: Option<String>,
    rng: fastrand::Rng,
}

impl Request {
    /// The request numbered `n` of a run seeded with `seed`.
    pub fn new(seed: u64, n: u64) -> Self {
        let mut rng = rng(seed, n, 0);
        let traceparent = (rng.u8(..) < 64)
            .then(|| format!("00-{:032x}-{:016x}-01", rng.u128(1..), rng.u64(1..)));
        Self {
            n,
            id: request_id(n),
            session: format!("sess_{:04x}", rng.u16(..)),
            user: format!("user_{}", rng.u32(1000..1200)),
            traceparent,
            rng,
        }
    }

    /// The request number in `req_000123`, or `None` for any other id.
    pub fn number(request_id: &str) -> Option<u64> {
        request_id.strip_prefix("req_")?.parse().ok()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// A number in `range`.
    pub fn pick(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.rng.u64(range)
    }

    /// One of `items`.
    pub fn one_of<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.rng.usize(..items.len()))
            .copied()
            .unwrap_or("")
    }

    /// Simulated work, so steps take measurable time (tokio's timer
    /// rounds up to the millisecond).
    pub async fn work(&mut self, micros: std::ops::Range<u64>) {
        tokio::time::sleep(Duration::from_micros(self.rng.u64(micros))).await;
    }
}

/// The outcomes of the payments service for request `n`: a generator of
/// their own, so they do not depend on how many numbers checkout drew.
pub fn payment_rng(seed: u64, n: u64) -> Request {
    Request {
        rng: rng(seed, n, 1),
        ..Request::new(seed, n)
    }
}

/// The id the load generator sends for request `n`.
pub fn request_id(n: u64) -> String {
    format!("req_{n:06}")
}

fn rng(seed: u64, n: u64, stream: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}
