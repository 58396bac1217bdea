//! Community ID v1 flow hashes (<https://github.com/corelight/community-id-spec>), so an alert
//! can be matched against the same connection in Zeek, Suricata or Elastic data.
//!
//! `"1:" + base64(sha1(seed ‖ src ip ‖ dst ip ‖ proto ‖ 0 ‖ src port ‖ dst port))` over the
//! endpoints in canonical order (smaller address/port first; ICMP types mapped to their
//! request/reply partner), all integers in network byte order. SHA-1 and base64 come from the
//! RustCrypto `sha1` and the `base64` crates; the tests check them and the hashes against the
//! spec's published vectors. Not a general-purpose crypto module: SHA-1 is used only because
//! the spec says so.

use crate::traffic::flow::{FlowRecord, Proto};
use std::net::IpAddr;

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

/// The IANA protocol number of a flow's transport; `None` when unknown (no hash then).
pub fn ip_proto(proto: Proto, ipv6: bool) -> Option<u8> {
    match proto {
        Proto::Tcp => Some(IPPROTO_TCP),
        Proto::Udp => Some(IPPROTO_UDP),
        Proto::Icmp if ipv6 => Some(IPPROTO_ICMPV6),
        Proto::Icmp => Some(IPPROTO_ICMP),
        Proto::Unknown => None,
    }
}

/// ICMP (type, code) as the spec's port pair: request/reply types map to their partner so both
/// directions hash alike; other types are one-way (never reordered).
fn icmp_ports(ipv6: bool, icmp_type: u16, code: u16) -> (u16, u16, bool) {
    let partner = if ipv6 {
        match icmp_type {
            128 => Some(129),
            129 => Some(128),
            130 => Some(131),
            131 => Some(130),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match partner {
        Some(p) => (icmp_type, p, false),
        None => (icmp_type, code, true),
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The Community ID of a connection. `ports` is `None` for protocols without ports; for ICMP
/// it is (type, code), as Zeek's conn.log records them. `None` when the addresses are of
/// different families.
pub fn community_id_v1(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ports: Option<(u16, u16)>,
) -> Option<String> {
    if src.is_ipv4() != dst.is_ipv4() {
        return None;
    }
    let (mut sip, mut dip) = (ip_bytes(src), ip_bytes(dst));
    let mut ports = ports;
    let mut one_way = false;
    if let Some((sp, dp)) = ports {
        if proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 {
            let (a, b, ow) = icmp_ports(proto == IPPROTO_ICMPV6, sp, dp);
            ports = Some((a, b));
            one_way = ow;
        }
    }
    let in_order = match ports {
        Some((sp, dp)) => sip < dip || (sip == dip && sp < dp),
        None => sip <= dip,
    };
    if !one_way && !in_order {
        std::mem::swap(&mut sip, &mut dip);
        ports = ports.map(|(a, b)| (b, a));
    }
    let mut data = Vec::with_capacity(2 + 32 + 2 + 4);
    data.extend_from_slice(&seed.to_be_bytes());
    data.extend_from_slice(&sip);
    data.extend_from_slice(&dip);
    data.push(proto);
    data.push(0);
    if let Some((sp, dp)) = ports {
        data.extend_from_slice(&sp.to_be_bytes());
        data.extend_from_slice(&dp.to_be_bytes());
    }
    Some(format!("1:{}", base64(&sha1(&data))))
}

/// The Community ID (seed 0) of a flow; `None` for unknown transports.
pub fn of_flow(f: &FlowRecord) -> Option<String> {
    let proto = ip_proto(f.proto, f.src_ip.is_ipv6())?;
    community_id_v1(0, f.src_ip, f.dst_ip, proto, Some((f.src_port, f.dst_port)))
}

/// SHA-1 (FIPS 180-4), from RustCrypto's `sha1`.
pub fn sha1(message: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(message).into()
}

/// Standard base64 with padding (RFC 4648), from the `base64` crate.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sha1_and_base64_known_answers() {
        // FIPS 180 examples and RFC 4648 test vectors.
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn community_id_spec_vectors() {
        // The spec's baseline vectors (also in Zeek's and Suricata's test suites).
        let (a, b) = (ip("1.2.3.4"), ip("5.6.7.8"));
        let cases = [
            (
                0,
                a,
                b,
                6,
                Some((1122, 3344)),
                "1:wCb3OG7yAFWelaUydu0D+125CLM=",
            ),
            (
                0,
                b,
                a,
                6,
                Some((3344, 1122)),
                "1:wCb3OG7yAFWelaUydu0D+125CLM=",
            ),
            (
                0,
                a,
                b,
                17,
                Some((1122, 3344)),
                "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=",
            ),
            (0, a, b, 1, Some((8, 0)), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
            (0, b, a, 1, Some((0, 0)), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
            (0, a, b, 46, None, "1:ikv3kmf89luf73WPz1jOs49S768="),
            (
                1,
                a,
                b,
                6,
                Some((1122, 3344)),
                "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=",
            ),
            (
                1,
                a,
                b,
                17,
                Some((1122, 3344)),
                "1:OShq+iKDAMVouh/4bMxB9Sz4amw=",
            ),
            (1, a, b, 1, Some((8, 0)), "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="),
        ];
        for (seed, s, d, proto, ports, want) in cases {
            assert_eq!(
                community_id_v1(seed, s, d, proto, ports).as_deref(),
                Some(want),
                "{s} {d} {proto} {ports:?} seed {seed}"
            );
        }
        let (v6a, v6b) = (
            ip("fe80:0001:0203:0405:0607:0809:0A0B:0C0D"),
            ip("fe80:1011:1213:1415:1617:1819:1A1B:1C1D"),
        );
        assert_eq!(
            community_id_v1(0, v6a, v6b, 58, Some((128, 129))).as_deref(),
            Some("1:0bf7hyMJUwt3fMED7z8LIfRpBeo=")
        );
        assert_eq!(
            community_id_v1(1, v6a, v6b, 58, Some((128, 129))).as_deref(),
            Some("1:IO27GQzPuCtNnwFvjWALMHu5tJE=")
        );
        assert_eq!(community_id_v1(0, a, v6a, 6, Some((1, 2))), None);
    }
}
