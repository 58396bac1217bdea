//! Feature rows for a slice of flows (a run's whole traffic): [`FeatureStream`] driven over
//! the slice, so batch rows are the stream's rows. Not here: what the columns mean
//! (`columns`).

use super::columns::{FeatureConfig, FEATURES};
use super::ports::PortFrequency;
use super::stream::FeatureStream;
use crate::traffic::flow::FlowRecord;
use crate::util::matrix::Matrix;

/// One feature row per flow, in flow order. `flows` must be sorted by `ts` (the generator's
/// output is); `ports` gives destination-port rarity.
pub fn extract(flows: &[FlowRecord], ports: &PortFrequency, config: &FeatureConfig) -> Matrix {
    extract_with_progress(flows, ports, config, &mut |_| {})
}

/// As [`extract`], reporting progress in [0, 1] about twenty times.
pub fn extract_with_progress(
    flows: &[FlowRecord],
    ports: &PortFrequency,
    config: &FeatureConfig,
    on_progress: &mut dyn FnMut(f64),
) -> Matrix {
    let d = FEATURES.len();
    let mut x = Matrix::zeros(flows.len(), d);
    let mut stream = FeatureStream::new(ports, config);
    let report_every = (flows.len() / 20).max(1);
    for (i, f) in flows.iter().enumerate() {
        stream.push(f, x.row_mut(i));
        if i % report_every == 0 {
            on_progress(i as f64 / flows.len() as f64);
        }
    }
    on_progress(1.0);
    x
}

#[cfg(test)]
mod tests {
    use super::super::columns::FEATURES;
    use super::super::stream::FeatureStream;
    use super::*;
    use crate::traffic::flow::{ConnState, Label, Proto, Service};
    use crate::util::rng::DetRng;
    use std::net::{IpAddr, Ipv4Addr};

    fn flow(ts: f64, src: u8, dst: u8, port: u16, state: ConnState) -> FlowRecord {
        FlowRecord {
            ts,
            src_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 1, src)),
            src_port: 50_000,
            dst_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, dst)),
            dst_port: port,
            proto: Proto::Tcp,
            service: Service::None,
            duration_s: 1.5,
            bytes_out: 100,
            bytes_in: 0,
            pkts_out: 2,
            pkts_in: 0,
            conn_state: state,
            history: crate::traffic::flow::ConnHistory::EMPTY,
            label: Label::Benign,
            incident_id: None,
            orig_role: crate::traffic::flow::OrigRole::None,
        }
    }

    fn natural(x: &Matrix, row: usize, name: &str) -> f64 {
        let j = FEATURES.iter().position(|f| f.name == name).unwrap();
        FEATURES[j].natural_value(x.get(row, j))
    }

    #[test]
    fn window_counts_distinct_ports_and_expires_old_flows() {
        let flows = vec![
            flow(0.0, 1, 1, 22, ConnState::S0),
            flow(1.0, 1, 1, 23, ConnState::REJ),
            flow(2.0, 1, 1, 23, ConnState::SF),
            flow(3.0, 2, 1, 80, ConnState::SF),
            // 70 s later the first four have left the 60 s window.
            flow(73.0, 1, 2, 80, ConnState::SF),
        ];
        let x = extract(&flows, &PortFrequency::default(), &FeatureConfig::default());
        assert_eq!(x.rows(), 5);
        assert_eq!(x.cols(), FEATURES.len());
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(natural(&x, 2, "src_flows_w"), 3.0));
        assert!(close(natural(&x, 2, "src_distinct_dst_ports_w"), 2.0));
        assert!(close(natural(&x, 2, "src_failed_share_w"), 2.0 / 3.0));
        assert!(close(natural(&x, 2, "pair_flows_w"), 2.0));
        assert!(close(natural(&x, 3, "dst_distinct_src_hosts_w"), 2.0));
        assert!(close(natural(&x, 3, "dst_flows_w"), 4.0));
        assert!(close(natural(&x, 4, "src_flows_w"), 1.0));
        assert!(close(natural(&x, 4, "dst_flows_w"), 1.0));
        assert!(close(natural(&x, 0, "failed_attempt"), 1.0));
        assert!(close(natural(&x, 3, "failed_attempt"), 0.0));
        assert!(close(natural(&x, 0, "log_bytes_out"), 100.0));
    }

    #[test]
    fn a_pair_silent_for_a_day_starts_over_and_idle_pairs_are_dropped() {
        use super::super::stream::PAIR_IDLE_FORGET_S;
        let ports = PortFrequency::default();
        let config = FeatureConfig::default();
        let mut stream = FeatureStream::new(&ports, &config);
        let mut row = vec![0.0; FEATURES.len()];
        let column = FEATURES
            .iter()
            .position(|f| f.name == "pair_gap_regularity")
            .unwrap();
        // Pair 1 beacons every 60 s for 10 minutes: a rhythm.
        for k in 0..10 {
            stream.push(
                &flow(f64::from(k) * 60.0, 1, 1, 443, ConnState::SF),
                &mut row,
            );
        }
        assert!(row[column] > 0.9, "{}", row[column]);
        // 200 other pairs over the next half day.
        for k in 0..200u16 {
            let f = flow(
                600.0 + f64::from(k) * 200.0,
                2,
                (k % 250) as u8,
                k,
                ConnState::SF,
            );
            stream.push(&f, &mut row);
        }
        // A day and a bit later, pair 1 again: no rhythm carried over that silence.
        let later = 540.0 + PAIR_IDLE_FORGET_S + 1.0;
        stream.push(&flow(later, 1, 1, 443, ConnState::SF), &mut row);
        assert_eq!(row[column], 0.0);
        // Two days on, only the pairs seen since a day before (and the sweep's hour) stay.
        stream.push(
            &flow(later + PAIR_IDLE_FORGET_S + 10.0, 3, 3, 443, ConnState::SF),
            &mut row,
        );
        assert_eq!(stream.state_size().pairs, 1, "{:?}", stream.state_size());
    }

    #[test]
    fn new_features_see_upload_share_dns_volume_and_rhythm() {
        let mut flows: Vec<FlowRecord> = Vec::new();
        // A clockwork pair (every 60 s ± 1 s) and a bursty one, interleaved.
        for k in 0..12 {
            let t = f64::from(k) * 60.0 + if k % 2 == 0 { 1.0 } else { -1.0 };
            flows.push(flow(t + 5.0, 1, 1, 443, ConnState::SF));
            let bursty = [0.0, 0.2, 0.4, 40.0, 41.0, 200.0][k as usize % 6];
            flows.push(flow(t.max(0.0) + bursty, 2, 2, 443, ConnState::SF));
        }
        for k in 0..5 {
            let mut q = flow(800.0 + f64::from(k), 3, 53, 53, ConnState::SF);
            q.proto = Proto::Udp;
            q.service = Service::Dns;
            flows.push(q);
        }
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let x = extract(&flows, &PortFrequency::default(), &FeatureConfig::default());
        let last_of = |src: u8| {
            flows
                .iter()
                .rposition(|f| f.src_ip == IpAddr::V4(Ipv4Addr::new(10, 0, 1, src)))
                .unwrap()
        };
        let clockwork = natural(&x, last_of(1), "pair_gap_regularity");
        let bursty = natural(&x, last_of(2), "pair_gap_regularity");
        assert!(clockwork > 0.9, "{clockwork}");
        assert!(bursty < clockwork - 0.3, "{bursty}");
        assert_eq!(natural(&x, 0, "pair_gap_regularity"), 0.0, "no rhythm yet");
        assert!((natural(&x, last_of(3), "src_dns_flows_w") - 5.0).abs() < 1e-9);
        assert_eq!(natural(&x, last_of(1), "src_dns_flows_w"), 0.0);
        // flow(): 100 bytes out, none back.
        assert_eq!(natural(&x, 0, "out_share"), 1.0);
    }

    #[test]
    fn port_rarity_orders_common_below_unseen() {
        let train: Vec<FlowRecord> = (0..99)
            .map(|i| flow(i as f64, 1, 1, 443, ConnState::SF))
            .chain([flow(100.0, 1, 1, 22, ConnState::SF)])
            .collect();
        let p = PortFrequency::fit(&train);
        let common = p.rarity(Proto::Tcp, 443);
        let rare = p.rarity(Proto::Tcp, 22);
        let unseen = p.rarity(Proto::Tcp, 31337);
        assert!(common < rare && rare < unseen);
        assert!(common < 0.02);
        assert!(
            p.rarity(Proto::Udp, 443) == unseen,
            "protocol is part of the key"
        );
    }

    #[test]
    fn all_values_finite() {
        let flows: Vec<FlowRecord> = (0..500)
            .map(|i| {
                flow(
                    i as f64 * 0.3,
                    (i % 7) as u8,
                    (i % 5) as u8,
                    (i % 40) as u16,
                    ConnState::SF,
                )
            })
            .collect();
        let x = extract(
            &flows,
            &PortFrequency::fit(&flows),
            &FeatureConfig::default(),
        );
        assert!(x.all_finite());
    }

    /// Traffic among a fixed set of hosts at a steady rate: what the stream holds after 10 k
    /// flows and after 100 k is the same size (the window's flows and the host keys, not
    /// the flows so far).
    #[test]
    fn stream_state_does_not_grow_with_the_flows() {
        let ports = PortFrequency::default();
        let mut stream = FeatureStream::new(&ports, &FeatureConfig::default());
        let mut row = vec![0.0; FEATURES.len()];
        let mut rng = DetRng::new(7);
        let mut sizes = Vec::new();
        for i in 0..100_000u32 {
            let src = (rng.next_u64() % 20) as u8;
            let dst = (rng.next_u64() % 10) as u8;
            let port = [22, 53, 80, 443, 8080][(rng.next_u64() % 5) as usize];
            // 10 flows a second: 600 in a 60 s window.
            let f = flow(f64::from(i) * 0.1, src, dst, port, ConnState::SF);
            stream.push(&f, &mut row);
            if i + 1 == 10_000 || i + 1 == 100_000 {
                sizes.push(stream.state_size());
            }
        }
        let (at_10k, at_100k) = (sizes[0], sizes[1]);
        assert_eq!(at_10k.window_flows, 600);
        assert_eq!(at_100k.window_flows, 600);
        assert_eq!(at_10k.pairs, 200);
        assert_eq!(at_100k.pairs, 200);
        // Host keys: at most 20 sources x (5 ports + 10 peers) + 10 x 20 + 200 x 5 pairs ...
        let bound = 20 * (1 + 5) + 20 * (1 + 10) + 10 * (1 + 20) + 20 * 10 * 5 + 20;
        assert!(at_10k.window_keys <= bound && at_100k.window_keys <= bound);
    }

    /// Pushing flows one by one gives `extract`'s rows bit for bit (it is the same code; this
    /// guards the batch driver).
    #[test]
    fn stream_rows_equal_batch_rows() {
        let flows: Vec<FlowRecord> = (0..3_000)
            .map(|i| {
                let state = if i % 11 == 0 {
                    ConnState::REJ
                } else {
                    ConnState::SF
                };
                flow(
                    i as f64 * 0.07,
                    (i % 13) as u8,
                    (i % 7) as u8,
                    (i % 9) as u16,
                    state,
                )
            })
            .collect();
        let ports = PortFrequency::fit(&flows[..1000]);
        let x = extract(&flows, &ports, &FeatureConfig::default());
        let mut stream = FeatureStream::new(&ports, &FeatureConfig::default());
        let mut row = vec![0.0; FEATURES.len()];
        for (i, f) in flows.iter().enumerate() {
            stream.push(f, &mut row);
            let same = row
                .iter()
                .zip(x.row(i))
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "row {i}");
        }
    }
}
