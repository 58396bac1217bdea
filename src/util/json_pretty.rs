//! Indents compact JSON text exactly as serde_json's `to_string_pretty` would have written it.
//!
//! The report download is pretty JSON, but serialising a type through serde_json's
//! `PrettyFormatter` instantiates all its `Serialize` code a second time (about 12 KB gz of
//! the worker, whose size budget is issue #6's). Re-indenting the compact text the worker
//! writes anyway costs one small function. Not a validator: the input must be serde_json's own
//! compact output (no whitespace between tokens), which it always is here.

/// `compact` re-indented with two spaces, `": "` after keys and `[]`/`{}` for empty
/// containers, byte for byte as serde_json's `PrettyFormatter`.
pub fn reindent(compact: &str) -> String {
    let bytes = compact.as_bytes();
    let mut out = String::with_capacity(compact.len() + compact.len() / 2);
    let mut depth = 0usize;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    // Copy whole runs of bytes that need no change, so multi-byte characters stay intact.
    let mut copied_to = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                // Skip to the closing quote, past escapes.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'{' | b'[' | b'}' | b']' | b',' | b':' => {
                out.push_str(&compact[copied_to..i]);
                let close = if b == b'{' { b'}' } else { b']' };
                match b {
                    b'{' | b'[' if bytes.get(i + 1) == Some(&close) => {
                        out.push(b as char);
                        out.push(close as char);
                        i += 1;
                    }
                    b'{' | b'[' => {
                        out.push(b as char);
                        depth += 1;
                        newline(&mut out, depth);
                    }
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        newline(&mut out, depth);
                        out.push(b as char);
                    }
                    b',' => {
                        out.push(',');
                        newline(&mut out, depth);
                    }
                    _ => out.push_str(": "),
                }
                i += 1;
                copied_to = i;
                continue;
            }
            _ => i += 1,
        }
    }
    out.push_str(&compact[copied_to.min(compact.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_as_serde(value: &serde_json::Value) {
        let compact = serde_json::to_string(value).unwrap();
        assert_eq!(
            reindent(&compact),
            serde_json::to_string_pretty(value).unwrap()
        );
    }

    #[test]
    fn matches_serde_json_pretty_on_awkward_values() {
        same_as_serde(&json!({}));
        same_as_serde(&json!([]));
        same_as_serde(&json!("plain"));
        same_as_serde(&json!(1.5e-300));
        same_as_serde(&json!({
            "empty_object": {}, "empty_array": [], "nested": [[], [{}], [1, [2, []]]],
            "tricky \"key\" {with} [brackets]": "value, with: \\\"quotes\\\" and {braces}",
            "unicode": "répertoire ☃ 𝄞 \u{1}", "escaped backslash at end\\": "\\",
            "numbers": [0, -1, 1.25, 1e300, null, true, false]
        }));
    }

    #[test]
    fn matches_serde_json_pretty_on_a_report() {
        let (small, _) =
            crate::detection::run_config::RunConfig::from_query("duration=900&hosts=20");
        let out = crate::pipeline::run(&small, &|| 0.0, &mut |_| true).unwrap();
        let compact = serde_json::to_string(&out.report).unwrap();
        assert_eq!(
            reindent(&compact),
            serde_json::to_string_pretty(&out.report).unwrap()
        );
    }
}
