//! Where patdesk may send requests of its own that someone else's settings point at (an
//! issuer's keys for federation): never to this machine, a private network, link-local (cloud
//! metadata at 169.254.169.254) or otherwise special addresses, so that a team admin's setting
//! cannot make patdesk probe what it can reach and they cannot (SSRF). The caller checks the
//! address it resolved and then connects to that very address (no second lookup to rebind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a resolved address is no destination for patdesk's own requests; `None` when it is a
/// public address.
pub fn refused_destination(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => refused_v4(v4),
            None => refused_v6(v6),
        },
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 10/8, 172.16/12, 192.168/16, and carrier-grade NAT 100.64/10.
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address (cloud metadata lives there)")
    } else if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || a == 0 || a >= 240 {
        Some("not a unicast address")
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) || (a == 192 && b == 0) {
        Some("a reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || ip.is_multicast() {
        Some("not a unicast address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address (cloud metadata lives there)")
    } else if first & 0xffc0 == 0xfec0 {
        // Site-local (deprecated), private in practice.
        Some("a private address")
    } else if first == 0x2001 && (ip.segments()[1] == 0x0db8 || ip.segments()[1] == 0) {
        // Documentation, and Teredo (which tunnels to an IPv4 address it hides).
        Some("a reserved address")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b && ip.segments()[2] == 0x0001 {
        // Local-use NAT64 (RFC 8215).
        Some("a private address")
    } else if first == 0x2002 {
        // 6to4 embeds an IPv4 address: judge that one.
        let [_, a, b, ..] = ip.segments();
        refused_v4(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ))
    } else if ip.segments()[..6] == [0; 6] {
        // IPv4-compatible (deprecated, `::a.b.c.d`).
        let [.., c, d] = ip.segments();
        refused_v4(Ipv4Addr::new(
            (c >> 8) as u8,
            c as u8,
            (d >> 8) as u8,
            d as u8,
        ))
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 embeds an IPv4 address: judge that one.
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::new((c >> 8) as u8, c as u8, (d >> 8) as u8, d as u8);
        refused_v4(v4)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        refused_destination(text.parse().unwrap()).is_some()
    }

    #[test]
    fn only_public_unicast_addresses_are_destinations() {
        for inside in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.7",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "2002:a9fe:a9fe::1",
            "2002:0a00:0001::1",
            "::169.254.169.254",
            "fec0::1",
            "2001:0:4136:e378::1",
            "64:ff9b:1::a",
        ] {
            assert!(refused(inside), "{inside} must be refused");
        }
        for outside in [
            "140.82.112.3",
            "172.32.0.1",
            "100.128.0.1",
            "2606:50c0:8000::153",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(!refused(outside), "{outside} is public");
        }
    }
}
