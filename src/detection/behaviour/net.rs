//! Small shared facts the detectors need about addresses, ports and time spans: which
//! addresses are local, which are not unicast hosts, and durations in words. Not a general
//! network library.

use std::net::IpAddr;

/// RFC 1918, loopback, link-local, carrier-grade NAT (RFC 6598) and IPv6 unique-local or
/// link-local addresses: the site's own side of a conversation.
pub fn is_internal(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            let s0 = a.segments()[0];
            a.is_loopback() || (s0 & 0xfe00) == 0xfc00 || (s0 & 0xffc0) == 0xfe80
        }
    }
}

/// Multicast, broadcast or unspecified: not one host, so never a scan target or a victim.
pub fn is_not_a_host(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            a.is_multicast() || a.is_broadcast() || a.is_unspecified() || a.octets()[3] == 255
        }
        IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
    }
}

/// A span of seconds as people say it: "38 s", "4.2 min", "3.1 h", "2.0 days".
pub fn span_words(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// Bytes as people say them: "512 B", "3.4 KB", "12.0 MB", "1.2 GB" (powers of 1000).
pub fn bytes_words(bytes: f64) -> String {
    let b = if bytes.is_finite() {
        bytes.max(0.0)
    } else {
        0.0
    };
    if b < 1e3 {
        format!("{b:.0} B")
    } else if b < 1e6 {
        format!("{:.1} KB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_and_non_host_addresses() {
        for a in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "100.64.0.1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
        for a in [
            "224.0.0.251",
            "255.255.255.255",
            "10.0.0.255",
            "ff02::1",
            "0.0.0.0",
        ] {
            assert!(is_not_a_host(a.parse().unwrap()), "{a}");
        }
        assert!(!is_not_a_host("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn words() {
        assert_eq!(span_words(38.2), "38 s");
        assert_eq!(span_words(600.0), "10.0 min");
        assert_eq!(span_words(3.0 * 3600.0), "3.0 h");
        assert_eq!(span_words(f64::NAN), "0 s");
        assert_eq!(bytes_words(3400.0), "3.4 KB");
        assert_eq!(bytes_words(1.25e9), "1.2 GB");
    }
}
