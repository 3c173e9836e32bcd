//! Who is on the other end of a request, for sign-in throttling: the TCP peer, or, when
//! the peer is a proxy we trust, the right-most `X-Forwarded-For` address that is not one
//! of ours. A client can write anything into the header; only what our own proxies
//! appended counts, so nobody can pick the address they are throttled as.
//!
//! The api throttles sign-ins by it; the web works it out for each page request and
//! passes that one address on to the api, which trusts the web.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use ipnet::IpNet;

/// At most this many `X-Forwarded-For` entries are looked at, counting from the right:
/// more proxies than that in front of the bank is a header someone made up.
const MAX_HOPS: usize = 16;

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Loopback only: the all-in-one's web calls its api over loopback.
    pub const DEFAULT: &'static str = "127.0.0.0/8,::1/128";

    pub fn loopback() -> TrustedProxies {
        TrustedProxies::from_str(TrustedProxies::DEFAULT).unwrap_or(TrustedProxies(Vec::new()))
    }

    pub fn none() -> TrustedProxies {
        TrustedProxies(Vec::new())
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: walking from the TCP peer leftwards through
    /// `X-Forwarded-For`, the first address that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.client_forwarded(peer, headers.get_all("x-forwarded-for").iter())
    }

    /// [`TrustedProxies::client`] over the `X-Forwarded-For` values alone, in order.
    pub fn client_forwarded<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a HeaderValue>,
    ) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        // Several headers are one list, in order; it is read from the right, lazily, so
        // a huge header costs no more than its last few entries.
        let hops = forwarded_for
            .rev()
            .flat_map(|value| match value.to_str() {
                Ok(text) => text.rsplit(',').take(MAX_HOPS).map(parse_hop).collect(),
                Err(_) => vec![None],
            })
            .take(MAX_HOPS);
        for hop in hops {
            // Something that is not an address was written by whoever is left of the
            // last trusted hop: that hop is the best we know.
            let Some(address) = hop else {
                return client;
            };
            client = address;
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated CIDRs (`10.0.0.0/8,fd00::/8`); a bare address means just itself;
    /// empty: trust no proxy.
    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{part:?} is not a CIDR such as 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

/// `::ffff:1.2.3.4` is `1.2.3.4`, whichever way the socket reports it.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// The address a request is throttled as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The peer and headers of a request, judged by `trusted`. Without a peer (a router
    /// served without connection info) every request counts as one unknown client.
    pub fn of(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        match peer {
            Some(peer) => ClientAddress(trusted.client(peer.ip(), headers)),
            None => {
                tracing::debug!("no peer address; throttling as the unknown client");
                ClientAddress(IpAddr::from([0, 0, 0, 0]))
            }
        }
    }

    /// The part of the address one client controls: an IPv4 address, or an IPv6 /64
    /// (one customer line usually gets a whole /64, so single addresses mean little).
    pub fn bucket(&self) -> String {
        match canonical(self.0) {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let net = ipnet::Ipv6Net::new(v6, 64)
                    .map(|n| n.trunc())
                    .map(|n| n.to_string());
                net.unwrap_or_else(|_| v6.to_string())
            }
        }
    }
}

/// A router state that knows which proxies to believe: the extractor asks only this of it,
/// so authentication does not depend on the router's whole state.
pub trait KnowsProxies {
    fn trusted_proxies(&self) -> &TrustedProxies;
}

impl<S: KnowsProxies + Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<ClientAddress, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        Ok(ClientAddress::of(
            peer,
            &parts.headers,
            state.trusted_proxies(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().expect("header"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let trusted: TrustedProxies = "127.0.0.0/8,::1/128,10.0.0.0/8".parse().expect("cidrs");
        let forged = headers(&["6.6.6.6"]);
        // A stranger's own header is ignored.
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &forged),
            ip("203.0.113.9")
        );
        // Through our proxy: the right-most address that is not ours.
        assert_eq!(
            trusted.client(
                ip("10.1.2.3"),
                &headers(&["6.6.6.6, 198.51.100.7, 10.0.0.5"])
            ),
            ip("198.51.100.7")
        );
        // Several headers are one list; ports and mapped addresses are understood.
        assert_eq!(
            trusted.client(
                ip("::ffff:127.0.0.1"),
                &headers(&["6.6.6.6", "198.51.100.7:5555"])
            ),
            ip("198.51.100.7")
        );
        // Garbage left of our hops: the last trusted hop is the client.
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &headers(&["nonsense, 10.0.0.5"])),
            ip("10.0.0.5")
        );
        // A huge made-up header costs only its last hops; bytes that are not text stop
        // the walk like any other garbage.
        let huge = format!("{}198.51.100.7", "6.6.6.6,".repeat(20_000));
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &headers(&[&huge])),
            ip("198.51.100.7")
        );
        let mut binary = headers(&["6.6.6.6"]);
        binary.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff10.0.0.1").expect("opaque header"),
        );
        assert_eq!(trusted.client(ip("10.0.0.2"), &binary), ip("10.0.0.2"));
        // No header at all: the peer.
        assert_eq!(trusted.client(ip("::1"), &HeaderMap::new()), ip("::1"));
        // Trusting nobody: always the peer.
        assert_eq!(
            TrustedProxies::none().client(ip("127.0.0.1"), &forged),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_setting_is_checked_and_defaults_to_loopback() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("everyone".parse::<TrustedProxies>().is_err());
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::none()));
        let loopback = TrustedProxies::loopback();
        assert!(loopback.contains(ip("127.0.0.1")) && loopback.contains(ip("::1")));
        assert!(!loopback.contains(ip("10.0.0.1")));
        assert!(
            "192.0.2.1"
                .parse::<TrustedProxies>()
                .is_ok_and(|t| t.contains(ip("192.0.2.1")))
        );
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a = ClientAddress(ip("2001:db8:1:2::1")).bucket();
        let b = ClientAddress(ip("2001:db8:1:2:ffff::9")).bucket();
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(ClientAddress(ip("::ffff:192.0.2.4")).bucket(), "192.0.2.4");
    }
}
