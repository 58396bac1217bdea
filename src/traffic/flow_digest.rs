//! A digest of a flow list: FNV-1a 64 over every field of every flow, written into the report
//! so two runs can be seen to have analysed the same traffic.

use super::flow::FlowRecord;

/// FNV-1a 64 over every field of every flow.
pub fn flows_digest(flows: &[FlowRecord]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in flows {
        eat(&f.ts.to_bits().to_le_bytes());
        eat(f.src_ip.to_string().as_bytes());
        eat(&f.src_port.to_le_bytes());
        eat(f.dst_ip.to_string().as_bytes());
        eat(&f.dst_port.to_le_bytes());
        eat(f.proto.as_str().as_bytes());
        eat(f.service.as_str().as_bytes());
        eat(&f.duration_s.to_bits().to_le_bytes());
        for v in [f.bytes_out, f.bytes_in, f.pkts_out, f.pkts_in] {
            eat(&v.to_le_bytes());
        }
        eat(f.conn_state.as_str().as_bytes());
        eat(f.label.as_str().as_bytes());
    }
    format!("{h:016x}")
}
