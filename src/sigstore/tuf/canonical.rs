//! Canonical JSON as TUF signs it: the OLPC form that securesystemslib writes
//! (`encode_canonical`), which python-tuf and go-tuf repositories both produce.
//!
//! Object keys are sorted by their UTF-8 bytes, there is no whitespace, strings escape
//! only `\` and `"` (everything else, control and non-ASCII characters included, is written
//! raw), and numbers are integers: a float has no canonical form, so it is refused rather
//! than guessed at, since a guess that differs from the signer's breaks every signature.

use serde_json::Value;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCanonical(pub String);

impl std::fmt::Display for NotCanonical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The canonical bytes of `v`.
pub fn encode(v: &Value) -> Result<Vec<u8>, NotCanonical> {
    let mut out = Vec::new();
    write(v, &mut out, 0)?;
    Ok(out)
}

/// Deeper nesting than this is refused: metadata is a few levels deep, and recursion on
/// hostile input must not exhaust the stack (serde_json already stops at 128).
const MAX_DEPTH: usize = 128;

fn write(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), NotCanonical> {
    if depth > MAX_DEPTH {
        return Err(NotCanonical("nested too deeply".into()));
    }
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(NotCanonical(format!(
                    "the number {n} is not an integer; canonical JSON has no floats"
                )));
            }
        }
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted here rather than relying on serde_json's map order, which becomes
            // insertion order when any crate in the build enables `preserve_order`.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(k, out);
                out.push(b':');
                write(val, out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'\\' || b == b'"' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: Value) -> String {
        String::from_utf8(encode(&v).unwrap()).unwrap()
    }

    #[test]
    fn keys_sorted_by_bytes_no_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": 1, "a": [true, false, null], "B": {"z": 0, "é": 2, "y": -3} }"#,
        )
        .unwrap();
        // 'B' (0x42) < 'a' < 'b'; 'é' (0xC3 0xA9) sorts after every ASCII key.
        assert_eq!(
            enc(v),
            r#"{"B":{"y":-3,"z":0,"é":2},"a":[true,false,null],"b":1}"#
        );
    }

    #[test]
    fn strings_escape_only_backslash_and_quote() {
        let v = json!({"k": "a\"b\\c\nd\u{1}é€"});
        assert_eq!(
            encode(&v).unwrap(),
            "{\"k\":\"a\\\"b\\\\c\nd\u{1}é€\"}".as_bytes()
        );
    }

    #[test]
    fn large_integers_are_exact() {
        assert_eq!(
            enc(json!([u64::MAX, i64::MIN])),
            "[18446744073709551615,-9223372036854775808]"
        );
    }

    #[test]
    fn floats_are_refused() {
        let v: Value = serde_json::from_str(r#"{"version": 1.0}"#).unwrap();
        let e = encode(&v).unwrap_err();
        assert!(e.0.contains("not an integer"), "{e}");
        let v: Value = serde_json::from_str(r#"[1e3]"#).unwrap();
        assert!(encode(&v).is_err());
        // Beyond u64, serde_json falls back to a float: refused, not rounded.
        let v: Value = serde_json::from_str(r#"[123456789012345678901234567890]"#).unwrap();
        assert!(encode(&v).is_err());
    }

    #[test]
    fn matches_securesystemslib_on_a_metadata_sample() {
        // securesystemslib.formats.encode_canonical of the same object.
        let v = json!({"_type": "timestamp", "spec_version": "1.0.31", "version": 3,
            "expires": "2030-01-01T00:00:00Z",
            "meta": {"snapshot.json": {"version": 7, "hashes": {"sha256": "ab"}, "length": 10}}});
        assert_eq!(
            enc(v),
            r#"{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"hashes":{"sha256":"ab"},"length":10,"version":7}},"spec_version":"1.0.31","version":3}"#
        );
    }
}
