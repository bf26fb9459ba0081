//! JSON written the way the reference's protobuf `MessageToJson` writes a statement:
//! two-space indent, `", "`-free line layout, `": "` after keys, non-ASCII and control
//! characters escaped as `\uXXXX` (Python's `ensure_ascii`), numbers inside a
//! `google.protobuf.Struct` written as floats (`1000.0`).

use std::fmt::Write;

/// A JSON value with ordered object keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Bool(bool),
    /// Written as a Python float.
    Float(f64),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Serialises `v` with the reference's layout.
pub(crate) fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Str(s) => write_str(out, s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Float(f) => out.push_str(&python_float(*f)),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(items) if items.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        Value::Object(items) => {
            out.push('{');
            for (i, (k, item)) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values, exponent
/// form outside [1e-4, 1e16).
pub(crate) fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').expect("exponent form");
        let exp: i32 = exp.parse().expect("exponent");
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_python() {
        assert_eq!(python_float(1000.0), "1000.0");
        assert_eq!(python_float(1e9), "1000000000.0");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(0.5), "0.5");
        assert_eq!(python_float(1.5e-5), "1.5e-05");
    }

    #[test]
    fn layout_and_escapes_like_message_to_json() {
        let v = Value::Object(vec![
            (
                "a".into(),
                Value::Array(vec![Value::Str("naïve 😀\u{7f}\"".into())]),
            ),
            ("b".into(), Value::Object(vec![])),
            ("c".into(), Value::Bool(false)),
        ]);
        assert_eq!(
            to_string(&v),
            "{\n  \"a\": [\n    \"na\\u00efve \\ud83d\\ude00\\u007f\\\"\"\n  ],\n  \"b\": {},\n  \"c\": false\n}"
        );
    }
}
