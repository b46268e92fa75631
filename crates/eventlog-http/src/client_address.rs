//! `client.address`: the peer, or what trusted proxies say the client was.
//!
//! ```text
//! peer address ── trusted proxy? ──no──> client.address = peer
//!                      │yes
//!                      v
//! X-Forwarded-For / Forwarded, read right to left: skip trusted hops,
//! the first untrusted one is the client (a hop that does not parse stops
//! the walk at the last address known)
//! ```
//!
//! The headers are never read unless the builder was told which proxies to
//! trust and which header they set: anyone can send `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::{FORWARDED, HeaderName};

use crate::error::{HttpConfigError, quoted};

/// The connection's peer address, for servers that know it: insert it in
/// the request's extensions (or use [`ServerLayer::with_peer`](crate::ServerLayer::with_peer)).
/// With the `axum` feature, axum's `ConnectInfo<SocketAddr>` is read too.
///
/// ```
/// use eventlog_http::PeerAddr;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(PeerAddr("192.0.2.7:50312".parse()?));
/// assert_eq!(req.extensions().get::<PeerAddr>().map(|p| p.0.port()), Some(50312));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(
    /// The peer's address and port.
    ///
    /// ```
    /// let peer = eventlog_http::PeerAddr("[2001:db8::7]:443".parse()?);
    /// assert_eq!(peer.0.port(), 443);
    /// assert!(peer.0.is_ipv6());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub SocketAddr,
);

/// Which header the trusted proxies set: `X-Forwarded-For` (the default)
/// or the standard `Forwarded` (RFC 7239). Only that one is read, so a
/// client cannot slip a forged address into the other.
///
/// ```
/// use eventlog_http::ForwardedHeader;
///
/// assert_eq!(ForwardedHeader::default(), ForwardedHeader::X_FORWARDED_FOR);
/// assert_ne!(ForwardedHeader::FORWARDED, ForwardedHeader::X_FORWARDED_FOR);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForwardedHeader(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl ForwardedHeader {
    /// `X-Forwarded-For: <client>, <proxy1>, …`.
    ///
    /// ```
    /// use eventlog_http::ForwardedHeader;
    ///
    /// assert_eq!(ForwardedHeader::X_FORWARDED_FOR, ForwardedHeader::default());
    /// ```
    pub const X_FORWARDED_FOR: Self = Self(Kind::XForwardedFor);
    /// `Forwarded: for=<client>;proto=https, for=<proxy1>` (RFC 7239).
    ///
    /// ```
    /// use eventlog_http::{ForwardedHeader, ServerLayer};
    ///
    /// assert_ne!(ForwardedHeader::FORWARDED, ForwardedHeader::default());
    /// let layer = ServerLayer::builder()
    ///     .trusted_proxies(["::1"])
    ///     .forwarded_header(ForwardedHeader::FORWARDED)
    ///     .build();
    /// assert!(layer.is_ok());
    /// ```
    pub const FORWARDED: Self = Self(Kind::Forwarded);
}

/// How many hops, from the right, are read at most: a longer list is cut
/// there, so a huge header costs a bounded walk.
pub(crate) const MAX_HOPS: usize = 32;

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Self, HttpConfigError> {
        let bad = || HttpConfigError::ProxyNetwork {
            value: quoted(text),
        };
        let trimmed = text.trim();
        let (addr, prefix) = match trimmed.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (trimmed, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (u128::from(v4.to_bits()) << 96, 32),
            IpAddr::V6(v6) => (v6.to_bits(), 128),
        };
        let (net, net_len) = bits(self.addr);
        let (ip, ip_len) = bits(ip.to_canonical());
        if net_len != ip_len {
            return false;
        }
        let mask = u128::MAX
            .checked_shl(128 - u32::from(self.prefix))
            .unwrap_or(0);
        net & mask == ip & mask
    }
}

/// The proxies whose forwarding headers are believed, and which header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedProxies {
    networks: Vec<Network>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    pub(crate) fn parse<I, T>(networks: I, header: ForwardedHeader) -> Result<Self, HttpConfigError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let networks = networks
            .into_iter()
            .map(|n| Network::parse(n.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { networks, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer unless it is a trusted proxy, else
    /// the first untrusted hop of the forwarding header, right to left.
    pub(crate) fn client_address(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let name: HeaderName = match self.header.0 {
            Kind::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            Kind::Forwarded => FORWARDED,
        };
        let mut hops: Vec<&str> = Vec::new();
        for value in headers.get_all(&name) {
            let Ok(text) = value.to_str() else {
                // Not visible ASCII: nothing in it can be believed, and
                // neither can anything to its left.
                hops.clear();
                hops.push("");
                continue;
            };
            hops.extend(text.split(','));
        }
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let parsed = match self.header.0 {
                Kind::XForwardedFor => parse_hop(hop),
                Kind::Forwarded => forwarded_for(hop).and_then(parse_hop),
            };
            let Some(ip) = parsed else {
                return Some(client);
            };
            client = ip;
            if !self.trusts(ip) {
                return Some(ip);
            }
        }
        Some(client)
    }
}

/// An address as proxies write it: `203.0.113.9`, `203.0.113.9:4711`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

/// The `for=` value of one `Forwarded` element (`for=…;proto=…;by=…`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn trusted(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::parse(nets, header).unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    // Compared with what `client_address` returns.
    #[allow(clippy::unnecessary_wraps)]
    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_headers_say() {
        let t = trusted(&[], ForwardedHeader::X_FORWARDED_FOR);
        let h = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(t.client_address(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        let t = trusted(&["10.0.0.0/8"], ForwardedHeader::X_FORWARDED_FOR);
        assert_eq!(t.client_address(ip("192.0.2.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn trusted_hops_are_skipped_right_to_left() {
        let t = trusted(
            &["10.0.0.0/8", "127.0.0.1"],
            ForwardedHeader::X_FORWARDED_FOR,
        );
        let h = headers("x-forwarded-for", &["6.6.6.6, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(t.client_address(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        // All trusted: the leftmost.
        let h = headers("x-forwarded-for", &["10.2.2.2, 10.1.1.1"]);
        assert_eq!(t.client_address(ip("127.0.0.1"), &h), ip("10.2.2.2"));
        // No header: the peer.
        assert_eq!(
            t.client_address(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        // A hop that does not parse stops at the last one known.
        let h = headers("x-forwarded-for", &["203.0.113.9, garbage, 10.1.1.1"]);
        assert_eq!(t.client_address(ip("127.0.0.1"), &h), ip("10.1.1.1"));
    }

    #[test]
    fn forwarded_is_read_only_when_chosen() {
        let t = trusted(&["::1"], ForwardedHeader::FORWARDED);
        let h = headers(
            "forwarded",
            &["for=\"[2001:db8:cafe::17]:4711\";proto=https, For=192.0.2.60;by=x"],
        );
        assert_eq!(t.client_address(ip("::1"), &h), ip("192.0.2.60"));
        let mut both = h.clone();
        both.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        let t = trusted(&["::1", "192.0.2.0/24"], ForwardedHeader::FORWARDED);
        assert_eq!(t.client_address(ip("::1"), &both), ip("2001:db8:cafe::17"));
    }

    #[test]
    fn no_peer_means_no_address() {
        let t = trusted(&["0.0.0.0/0"], ForwardedHeader::X_FORWARDED_FOR);
        assert_eq!(
            t.client_address(None, &headers("x-forwarded-for", &["1.2.3.4"])),
            None
        );
    }

    #[test]
    fn networks_parse_or_are_refused() {
        assert!(Network::parse("10.0.0.0/8").is_ok());
        assert!(
            Network::parse("::ffff:10.0.0.1")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            !Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/-1",
            "host.example",
            "10.0.0.0/8/8",
        ] {
            assert!(
                matches!(
                    Network::parse(bad),
                    Err(HttpConfigError::ProxyNetwork { .. })
                ),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_proxy_setting_is_a_network_or_a_typed_error(text in "\\PC{0,80}") {
            let _ = Network::parse(&text);
        }

        #[test]
        fn any_forwarding_header_yields_an_address(bytes in proptest::collection::vec(any::<u8>(), 0..4096), forwarded in any::<bool>()) {
            let header = if forwarded { ForwardedHeader::FORWARDED } else { ForwardedHeader::X_FORWARDED_FOR };
            let t = trusted(&["0.0.0.0/0", "::/0"], header);
            let mut map = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                map.insert(if forwarded { FORWARDED } else { HeaderName::from_static("x-forwarded-for") }, v);
            }
            prop_assert!(t.client_address(ip("10.0.0.1"), &map).is_some());
        }
    }
}
