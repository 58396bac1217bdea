//! The simulated site: internal hosts with addresses and roles (servers in 10.0.0.0/24,
//! workstations in 10.0.1.0/24 onwards), which server runs which service, and the external
//! address pools (popular sites, a long tail of sites, internet clients, upstream DNS/NTP).
//!
//! This file decides who exists and where; it draws no traffic. Addresses are kept as `u32`
//! (IPv4) until a flow is built, so nothing here allocates per flow.

use crate::util::rng::DetRng;
use std::net::Ipv4Addr;

/// Service roles a server can hold, as bit flags: small networks pile several on one server.
pub(crate) mod role {
    pub const DNS: u8 = 1;
    pub const WEB: u8 = 2;
    pub const MAIL: u8 = 4;
    pub const NTP: u8 = 8;
    /// SMB file shares.
    pub const FILE: u8 = 16;
}

/// The order roles are given to servers; the first server also takes any role left over.
const ROLE_ORDER: [u8; 5] = [role::DNS, role::WEB, role::MAIL, role::NTP, role::FILE];

/// Every this-many-th workstation address (after the admin host) is an IoT device (camera,
/// printer, thermostat) rather than a person's computer.
const IOT_EVERY: usize = 10;

/// At most this many servers, however large the site: the rest are workstations.
const SERVERS_MAX: usize = 16;
/// Workstation addresses used per /24, leaving .0–.9 and .250–.255 for infrastructure.
const WORKSTATIONS_PER_SUBNET: usize = 240;

/// Long-tail web sites and internet clients: enough that most are rarely revisited.
pub(crate) const TAIL_SITES: u64 = 20_000;
pub(crate) const INTERNET_CLIENTS: u64 = 5_000;

/// Well-known CDN and site front ends, most popular first (weights fall off Zipf-like).
const POPULAR_SITES: [[u8; 4]; 32] = [
    [142, 250, 185, 78],
    [13, 107, 42, 14],
    [157, 240, 22, 35],
    [104, 16, 132, 229],
    [151, 101, 1, 140],
    [140, 82, 121, 4],
    [52, 96, 165, 18],
    [172, 217, 16, 142],
    [20, 190, 159, 2],
    [23, 215, 0, 136],
    [185, 199, 108, 153],
    [104, 18, 32, 7],
    [54, 239, 28, 85],
    [208, 80, 154, 224],
    [31, 13, 72, 36],
    [172, 64, 155, 249],
    [216, 58, 212, 174],
    [40, 126, 31, 67],
    [17, 253, 144, 10],
    [13, 33, 33, 49],
    [151, 101, 65, 69],
    [104, 244, 42, 1],
    [162, 159, 135, 232],
    [2, 16, 53, 18],
    [52, 94, 236, 248],
    [3, 33, 152, 147],
    [35, 186, 224, 25],
    [99, 86, 4, 35],
    [34, 120, 208, 123],
    [93, 184, 215, 14],
    [199, 232, 82, 133],
    [198, 35, 26, 96],
];
/// Zipf exponent of popular-site choice.
const POPULAR_ZIPF_S: f64 = 0.9;

/// Public resolvers the internal resolver forwards to.
pub(crate) const UPSTREAM_DNS: [u32; 4] = [
    u32::from_be_bytes([8, 8, 8, 8]),
    u32::from_be_bytes([1, 1, 1, 1]),
    u32::from_be_bytes([8, 8, 4, 4]),
    u32::from_be_bytes([9, 9, 9, 9]),
];

/// Public NTP servers the internal NTP server polls.
pub(crate) const UPSTREAM_NTP: [u32; 4] = [
    u32::from_be_bytes([162, 159, 200, 1]),
    u32::from_be_bytes([216, 239, 35, 0]),
    u32::from_be_bytes([129, 6, 15, 28]),
    u32::from_be_bytes([162, 159, 200, 123]),
];

#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub addr: u32,
    /// `role::*` flags; every server also runs sshd.
    pub roles: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub servers: Vec<Server>,
    pub workstations: Vec<u32>,
    pub resolver: u32,
    pub ntp: u32,
    pub mail: u32,
    pub web: u32,
    pub file: u32,
    /// The workstation that administers servers over SSH.
    pub admin: u32,
    popular: [u32; POPULAR_SITES.len()],
    /// Cumulative Zipf weights over `popular`, ending at 1.
    popular_cdf: [f64; POPULAR_SITES.len()],
    /// Per-seed salt so the long tail of sites and clients differs between seeds.
    tail_salt: u64,
}

impl Network {
    pub fn build(seed: u64, hosts: u32) -> Network {
        let hosts = hosts.max(2) as usize;
        let n_servers = server_count(hosts);
        let mut servers: Vec<Server> = (0..n_servers)
            .map(|i| Server {
                addr: ip([10, 0, 0, 10 + i as u8]),
                roles: 0,
            })
            .collect();
        for (k, &r) in ROLE_ORDER.iter().enumerate() {
            servers[k.min(n_servers - 1)].roles |= r;
        }
        let holder = |r: u8| {
            servers
                .iter()
                .find(|s| s.roles & r != 0)
                .map_or(servers[0].addr, |s| s.addr)
        };
        let (resolver, ntp, mail, web, file) = (
            holder(role::DNS),
            holder(role::NTP),
            holder(role::MAIL),
            holder(role::WEB),
            holder(role::FILE),
        );
        let workstations: Vec<u32> = (0..hosts - n_servers)
            .map(|i| {
                let subnet = 1 + i / WORKSTATIONS_PER_SUBNET;
                let host = 10 + i % WORKSTATIONS_PER_SUBNET;
                ip([10, 0, subnet as u8, host as u8])
            })
            .collect();
        let popular = POPULAR_SITES.map(ip);
        let mut popular_cdf = [0.0; POPULAR_SITES.len()];
        let mut total = 0.0;
        for (rank, c) in popular_cdf.iter_mut().enumerate() {
            total += 1.0 / crate::util::math::pow(rank as f64 + 1.0, POPULAR_ZIPF_S);
            *c = total;
        }
        for c in &mut popular_cdf {
            *c /= total;
        }
        Network {
            admin: workstations[0],
            servers,
            workstations,
            resolver,
            ntp,
            mail,
            web,
            file,
            popular,
            popular_cdf,
            tail_salt: DetRng::derive(seed, "generator/network").next_u64(),
        }
    }

    /// True if the workstation at `index` of `workstations` is an IoT device.
    pub fn is_iot(index: usize) -> bool {
        index % IOT_EVERY == IOT_EVERY - 1
    }

    /// How many of `workstations` workstation slots are IoT devices.
    pub fn iot_count(workstations: usize) -> usize {
        workstations / IOT_EVERY
    }

    pub fn host_count(&self) -> usize {
        self.servers.len() + self.workstations.len()
    }

    pub fn is_internal(addr: u32) -> bool {
        addr >> 24 == 10
    }

    /// A popular site by Zipf-weighted rank: returns (rank, address).
    pub fn pick_popular(&self, rng: &mut DetRng) -> (usize, u32) {
        let u = rng.f64();
        let rank = self
            .popular_cdf
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.popular.len() - 1);
        (rank, self.popular[rank])
    }

    /// A long-tail site id, skewed so low ids recur (a few tail sites are visited often).
    pub fn pick_tail_site(&self, rng: &mut DetRng) -> u64 {
        let u = rng.f64();
        ((u * u * u) * TAIL_SITES as f64) as u64
    }

    pub fn tail_site_addr(&self, site: u64) -> u32 {
        public_addr_from(self.tail_salt ^ site)
    }

    /// An internet client visiting the public services, skewed toward repeat visitors.
    pub fn pick_internet_client(&self, rng: &mut DetRng) -> u32 {
        let u = rng.f64();
        let id = (u * u * INTERNET_CLIENTS as f64) as u64;
        public_addr_from(self.tail_salt.rotate_left(32) ^ id.wrapping_mul(0x9e37_79b9))
    }

    /// TCP ports accepting connections on `addr`, for a scanner to find open.
    pub fn open_tcp_ports(&self, addr: u32) -> &'static [u16] {
        const WORKSTATION: &[u16] = &[135, 139, 445];
        // Generic servers: sshd plus an application on HTTPS.
        const SERVER: &[u16] = &[22, 443];
        const ALL_ROLES: &[u16] = &[22, 25, 53, 80, 443, 445, 587, 993];
        match self.servers.iter().find(|s| s.addr == addr) {
            None => WORKSTATION,
            Some(s) if s.roles == 0 => SERVER,
            Some(s) if s.roles == role::DNS => &[22, 53],
            Some(s) if s.roles == role::WEB => &[22, 80, 443],
            Some(s) if s.roles == role::MAIL => &[22, 25, 587, 993],
            Some(s) if s.roles == role::NTP => &[22],
            Some(s) if s.roles == role::FILE => &[22, 445],
            Some(_) => ALL_ROLES,
        }
    }
}

/// How many of `hosts` (at least 2) are servers: about one in ten, at least one, and at least
/// one workstation left over.
pub(crate) fn server_count(hosts: usize) -> usize {
    (hosts / 10).clamp(1, SERVERS_MAX).min(hosts - 1)
}

pub(crate) fn ip(octets: [u8; 4]) -> u32 {
    u32::from_be_bytes(octets)
}

pub(crate) fn to_ip(addr: u32) -> std::net::IpAddr {
    std::net::IpAddr::V4(Ipv4Addr::from(addr))
}

/// True for unicast addresses routed on the public internet (not private, loopback,
/// link-local, CGNAT, documentation, benchmarking or multicast/reserved).
pub(crate) fn is_public(addr: u32) -> bool {
    let [a, b, c, _] = addr.to_be_bytes();
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113))
}

/// A random public address, e.g. a spoofed source or an attacker.
pub(crate) fn random_public_addr(rng: &mut DetRng) -> u32 {
    loop {
        let addr = rng.next_u32();
        if is_public(addr) {
            return addr;
        }
    }
}

/// A public address fixed by `key`: the same site or client always has the same address.
fn public_addr_from(key: u64) -> u32 {
    let mut state = key;
    loop {
        let addr = (splitmix64(&mut state) >> 32) as u32;
        if is_public(addr) {
            return addr;
        }
    }
}

/// SplitMix64 step: a cheap, well-mixed hash for keyed addresses and stream seeds.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_held_and_hosts_add_up() {
        for hosts in [2, 3, 9, 40, 500] {
            let net = Network::build(1, hosts);
            assert_eq!(net.host_count(), hosts as usize);
            assert!(!net.workstations.is_empty() && !net.servers.is_empty());
            let all = net.servers.iter().fold(0, |acc, s| acc | s.roles);
            assert_eq!(
                all,
                role::DNS | role::WEB | role::MAIL | role::NTP | role::FILE
            );
            let mut addrs: Vec<u32> = net.servers.iter().map(|s| s.addr).collect();
            addrs.extend(&net.workstations);
            assert!(addrs.iter().all(|&a| Network::is_internal(a)));
            addrs.sort_unstable();
            addrs.dedup();
            assert_eq!(addrs.len(), hosts as usize, "addresses must be distinct");
        }
        let net = Network::build(1, 40);
        assert_eq!((net.servers.len(), net.workstations.len()), (4, 36));
        assert_ne!(net.resolver, net.web);
        assert_eq!(to_ip(net.admin).to_string(), "10.0.1.10");
    }

    #[test]
    fn external_addresses_are_public_and_stable() {
        let net = Network::build(5, 40);
        let mut rng = DetRng::new(0);
        for _ in 0..1_000 {
            let site = net.pick_tail_site(&mut rng);
            assert!(site < TAIL_SITES);
            assert!(is_public(net.tail_site_addr(site)));
            assert_eq!(net.tail_site_addr(site), net.tail_site_addr(site));
            assert!(is_public(net.pick_internet_client(&mut rng)));
            assert!(is_public(random_public_addr(&mut rng)));
            assert!(is_public(net.pick_popular(&mut rng).1));
        }
        assert!(!is_public(ip([192, 168, 1, 1])) && !is_public(ip([172, 20, 0, 1])));
        assert!(is_public(ip([172, 64, 155, 249])));
        assert!(POPULAR_SITES.iter().all(|&o| is_public(ip(o))));
    }

    #[test]
    fn popular_choice_favours_top_ranks() {
        let net = Network::build(1, 40);
        let mut rng = DetRng::new(2);
        let mut counts = [0u32; POPULAR_SITES.len()];
        for _ in 0..20_000 {
            counts[net.pick_popular(&mut rng).0] += 1;
        }
        assert!(counts[0] > counts[5] && counts[5] > counts[31]);
        assert!(counts.iter().all(|&c| c > 0));
    }
}
