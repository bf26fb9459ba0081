//! PKCS #11 URIs (RFC 7512): `pkcs11:token=ml;object=key?module-path=/usr/lib/x.so&pin-value=1234`.
//!
//! The path part (`;`-separated) says which token and object; the query part (`&`-separated)
//! says how to reach them (module, PIN). Values are percent-decoded to bytes: only `id` is
//! binary by nature, but labels are compared byte for byte with what the token reports, so
//! every value stays bytes until a caller asks for text.
//!
//! Rules taken from RFC 7512 section 2.3: a path attribute appears at most once; the
//! standard query attributes appear at most once (vendor query attributes may repeat);
//! `pin-source` and `pin-value` exclude each other. A path attribute this parser does not
//! know is kept in [`Pkcs11Uri::unknown_path_attributes`]: the RFC says such a URI matches
//! nothing, and the signer refuses it with that explanation. Unknown query attributes are
//! kept and ignored.

use std::fmt;

/// Why a URI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriError(String);

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed PKCS #11 URI: {}", self.0)
    }
}

impl std::error::Error for UriError {}

fn bad(msg: impl Into<String>) -> UriError {
    UriError(msg.into())
}

/// Path attributes defined by RFC 7512.
const PATH_ATTRIBUTES: [&str; 13] = [
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "type",
    "id",
    "slot-manufacturer",
    "slot-description",
    "slot-id",
];

/// Query attributes defined by RFC 7512.
const QUERY_ATTRIBUTES: [&str; 4] = ["pin-source", "pin-value", "module-name", "module-path"];

/// The object class named by `type=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `type=public`
    Public,
    /// `type=private`
    Private,
    /// `type=cert`
    Cert,
    /// `type=secret-key`
    SecretKey,
    /// `type=data`
    Data,
}

impl ObjectType {
    fn parse(v: &[u8]) -> Result<Self, UriError> {
        Ok(match v {
            b"public" => ObjectType::Public,
            b"private" => ObjectType::Private,
            b"cert" => ObjectType::Cert,
            b"secret-key" => ObjectType::SecretKey,
            b"data" => ObjectType::Data,
            other => {
                return Err(bad(format!(
                    "type '{}' is not one of public, private, cert, secret-key, data",
                    String::from_utf8_lossy(other)
                )))
            }
        })
    }

    /// The spelling used in URIs.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Public => "public",
            ObjectType::Private => "private",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }
}

/// A parsed PKCS #11 URI. Values are percent-decoded bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    path: Vec<(String, Vec<u8>)>,
    query: Vec<(String, Vec<u8>)>,
}

impl Pkcs11Uri {
    /// Parses a URI. The scheme is matched case-insensitively (RFC 3986); attribute names
    /// are case-sensitive, as RFC 7512 spells them.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let rest = match uri.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => &uri[7..],
            _ => return Err(bad("it must start with 'pkcs11:'")),
        };
        if let Some(c) = rest.chars().find(|c| c.is_control() || *c == '#') {
            return Err(bad(format!(
                "character {c:?} is not allowed (percent-encode it)"
            )));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut out = Pkcs11Uri::default();
        if !path.is_empty() {
            for part in path.split(';') {
                let (name, value) = split_attribute(part, "path")?;
                if out.path.iter().any(|(n, _)| n == name) {
                    return Err(bad(format!(
                        "path attribute '{name}' appears more than once"
                    )));
                }
                if name == "type" {
                    ObjectType::parse(&value)?;
                }
                out.path.push((name.to_string(), value));
            }
        }
        if let Some(query) = query {
            if query.is_empty() {
                return Err(bad("empty query after '?'"));
            }
            for part in query.split('&') {
                let (name, value) = split_attribute(part, "query")?;
                let standard = QUERY_ATTRIBUTES.contains(&name);
                if standard && out.query.iter().any(|(n, _)| n == name) {
                    return Err(bad(format!(
                        "query attribute '{name}' appears more than once"
                    )));
                }
                out.query.push((name.to_string(), value));
            }
        }
        out.validate()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), UriError> {
        if let Some(v) = self.path_attr("slot-id") {
            parse_slot_id(v)?;
        }
        if let Some(v) = self.path_attr("library-version") {
            parse_version(v)?;
        }
        if self.query_attr("pin-source").is_some() && self.query_attr("pin-value").is_some() {
            return Err(bad("pin-source and pin-value must not both be given"));
        }
        if let Some(v) = self.query_attr("module-path") {
            if !v.starts_with(b"/") {
                return Err(bad(format!(
                    "module-path '{}' must be an absolute path",
                    String::from_utf8_lossy(v)
                )));
            }
            if v.contains(&0) {
                return Err(bad("module-path contains a NUL byte"));
            }
        }
        for name in ["pin-value", "pin-source", "module-name"] {
            if self.query_attr(name).is_some_and(|v| v.contains(&0)) {
                return Err(bad(format!("{name} contains a NUL byte")));
            }
        }
        Ok(())
    }

    /// The decoded value of a path attribute.
    pub fn path_attr(&self, name: &str) -> Option<&[u8]> {
        self.path
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The decoded value of a query attribute (the first, for repeated vendor attributes).
    pub fn query_attr(&self, name: &str) -> Option<&[u8]> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The decoded value of a text path attribute, with invalid UTF-8 replaced (for messages).
    pub fn path_text(&self, name: &str) -> Option<String> {
        self.path_attr(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// `token=`: the token label.
    pub fn token(&self) -> Option<&[u8]> {
        self.path_attr("token")
    }

    /// `object=`: the object label (CKA_LABEL).
    pub fn object(&self) -> Option<&[u8]> {
        self.path_attr("object")
    }

    /// `id=`: the object id (CKA_ID), binary.
    pub fn id(&self) -> Option<&[u8]> {
        self.path_attr("id")
    }

    /// `type=`.
    pub fn object_type(&self) -> Option<ObjectType> {
        self.path_attr("type")
            .and_then(|v| ObjectType::parse(v).ok())
    }

    /// `slot-id=`.
    pub fn slot_id(&self) -> Option<u64> {
        self.path_attr("slot-id")
            .and_then(|v| parse_slot_id(v).ok())
    }

    /// `library-version=` as (major, minor); a missing minor is 0.
    pub fn library_version(&self) -> Option<(u8, u8)> {
        self.path_attr("library-version")
            .and_then(|v| parse_version(v).ok())
    }

    /// `module-path=`.
    pub fn module_path(&self) -> Option<&[u8]> {
        self.query_attr("module-path")
    }

    /// `module-name=`.
    pub fn module_name(&self) -> Option<&[u8]> {
        self.query_attr("module-name")
    }

    /// `pin-value=`.
    pub fn pin_value(&self) -> Option<&[u8]> {
        self.query_attr("pin-value")
    }

    /// `pin-source=`.
    pub fn pin_source(&self) -> Option<&[u8]> {
        self.query_attr("pin-source")
    }

    /// Path attributes RFC 7512 does not define (vendor extensions): a consumer that does
    /// not understand one must treat the URI as matching nothing.
    pub fn unknown_path_attributes(&self) -> Vec<&str> {
        self.path
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !PATH_ATTRIBUTES.contains(n))
            .collect()
    }

    /// The URI with `pin-value` masked, safe to print in messages.
    pub fn redacted(&self) -> String {
        let enc = |v: &[u8]| -> String {
            v.iter()
                .map(|&b| {
                    if b.is_ascii_alphanumeric() || b"-._~:@!$'()*+,=/".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let path: Vec<String> = self
            .path
            .iter()
            .map(|(n, v)| format!("{n}={}", enc(v)))
            .collect();
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(n, v)| {
                if n == "pin-value" {
                    format!("{n}=***")
                } else {
                    format!("{n}={}", enc(v))
                }
            })
            .collect();
        let mut s = format!("pkcs11:{}", path.join(";"));
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query.join("&"));
        }
        s
    }
}

fn split_attribute<'a>(part: &'a str, where_: &str) -> Result<(&'a str, Vec<u8>), UriError> {
    let (name, value) = part
        .split_once('=')
        .ok_or_else(|| bad(format!("{where_} attribute '{part}' has no '='")))?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok {
        return Err(bad(format!("'{name}' is not an attribute name")));
    }
    let value =
        percent_decode(value).map_err(|e| bad(format!("{where_} attribute '{name}': {}", e.0)))?;
    Ok((name, value))
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is an error.
pub fn percent_decode(s: &str) -> Result<Vec<u8>, UriError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let digit = |j: usize| bytes.get(j).and_then(|&b| (b as char).to_digit(16));
            let (Some(hi), Some(lo)) = (digit(i + 1), digit(i + 2)) else {
                return Err(bad("'%' is not followed by two hex digits"));
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn parse_slot_id(v: &[u8]) -> Result<u64, UriError> {
    std::str::from_utf8(v)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| {
            bad(format!(
                "slot-id '{}' is not a decimal number that fits a CK_SLOT_ID",
                String::from_utf8_lossy(v)
            ))
        })
}

fn parse_version(v: &[u8]) -> Result<(u8, u8), UriError> {
    let s = std::str::from_utf8(v).unwrap_or("");
    let (major, minor) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, "0"),
    };
    let num = |p: &str| {
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u8>().ok()
        } else {
            None
        }
    };
    match (num(major), num(minor)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(bad(format!(
            "library-version '{}' is not M or M.N (each 0-255)",
            String::from_utf8_lossy(v)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Pkcs11Uri {
        Pkcs11Uri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        match Pkcs11Uri::parse(s) {
            Ok(u) => panic!("{s} parsed as {u:?}"),
            Err(e) => e.to_string(),
        }
    }

    // The examples of RFC 7512 section 3.
    #[test]
    fn rfc_examples_parse() {
        let u = ok("pkcs11:");
        assert_eq!(u, Pkcs11Uri::default());

        let u = ok("pkcs11:object=my-pubkey;type=public");
        assert_eq!(u.object(), Some(&b"my-pubkey"[..]));
        assert_eq!(u.object_type(), Some(ObjectType::Public));

        let u = ok("pkcs11:object=my-key;type=private?pin-source=file:/etc/token");
        assert_eq!(u.pin_source(), Some(&b"file:/etc/token"[..]));
        assert_eq!(u.object_type(), Some(ObjectType::Private));

        let u = ok("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
                    manufacturer=Snakeoil%20Inc.;model=1.0;object=my-certificate;\
                    type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=\
                    ?pin-source=file:/etc/token_pin");
        assert_eq!(u.token(), Some(&b"The Software PKCS#11 Softtoken"[..]));
        assert_eq!(u.path_attr("manufacturer"), Some(&b"Snakeoil Inc."[..]));
        assert_eq!(u.path_attr("model"), Some(&b"1.0"[..]));
        assert_eq!(
            u.id(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        assert_eq!(u.path_attr("serial"), Some(&b""[..]));
        assert_eq!(u.object_type(), Some(ObjectType::Cert));

        let u = ok("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11");
        assert_eq!(u.module_name(), Some(&b"mypkcs11"[..]));

        let u = ok("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1");
        assert_eq!(u.module_path(), Some(&b"/mnt/libmypkcs11.so.1"[..]));

        let u = ok("pkcs11:token=Software%20PKCS%2311%20softtoken;\
                    manufacturer=Snakeoil%20Inc.?pin-value=the-pin");
        assert_eq!(u.pin_value(), Some(&b"the-pin"[..]));

        let u = ok("pkcs11:slot-description=Sun%20Metaslot");
        assert_eq!(u.path_attr("slot-description"), Some(&b"Sun Metaslot"[..]));

        let u = ok("pkcs11:library-manufacturer=Snakeoil%20Inc.;\
                    library-description=Soft%20Token%20Library;library-version=1.23");
        assert_eq!(u.library_version(), Some((1, 23)));

        let u = ok("pkcs11:token=My%20token%25%20created%20by%20Joe;\
                    library-version=3;id=%01%02%03%Ba%dd%Ef%fe;object=my-certificate;type=cert");
        assert_eq!(u.token(), Some(&b"My token% created by Joe"[..]));
        assert_eq!(u.library_version(), Some((3, 0)));
        assert_eq!(u.id(), Some(&[1, 2, 3, 0xba, 0xdd, 0xef, 0xfe][..]));

        let u = ok("pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;\
                    object=my-certificate;type=cert");
        assert_eq!(u.token(), Some(&b"A name with a substring %;"[..]));

        let u = ok(
            "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;\
                    object=my-certificate;type=cert",
        );
        assert_eq!(
            u.path_text("token").as_deref(),
            Some("Name with a small A with acute: á")
        );

        let u = ok("pkcs11:token=my-token;object=my-certificate;\
                    type=cert;vendor-aaa=value-a\
                    ?pin-source=file:/etc/token_pin&vendor-bbb=value-b");
        assert_eq!(u.unknown_path_attributes(), vec!["vendor-aaa"]);
        assert_eq!(u.query_attr("vendor-bbb"), Some(&b"value-b"[..]));
    }

    #[test]
    fn scheme_is_case_insensitive_names_are_not() {
        assert_eq!(ok("PKCS11:object=k").object(), Some(&b"k"[..]));
        assert_eq!(
            ok("pkcs11:Object=k").unknown_path_attributes(),
            vec!["Object"]
        );
    }

    #[test]
    fn slot_id_and_full_query() {
        let u = ok("pkcs11:slot-id=7;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634");
        assert_eq!(u.slot_id(), Some(7));
        assert_eq!(u.pin_value(), Some(&b"12&34"[..]));
    }

    #[test]
    fn vendor_query_attributes_may_repeat() {
        let u = ok("pkcs11:object=k?x-a=1&x-a=2");
        assert_eq!(u.query_attr("x-a"), Some(&b"1"[..]));
    }

    #[test]
    fn redacted_hides_the_pin() {
        let u = ok("pkcs11:token=a%20b;object=k?pin-value=secret&module-name=softhsm2");
        let r = u.redacted();
        assert!(!r.contains("secret"), "{r}");
        assert_eq!(
            r,
            "pkcs11:token=a%20b;object=k?pin-value=***&module-name=softhsm2"
        );
        assert_eq!(Pkcs11Uri::parse(&r).unwrap().token(), Some(&b"a b"[..]));
    }

    #[test]
    fn hostile_inputs_are_refused() {
        assert!(err("").contains("pkcs11:"));
        assert!(err("pkcs1").contains("pkcs11:"));
        assert!(err("http://example.com").contains("pkcs11:"));
        assert!(err("pkcs11:object").contains("no '='"));
        assert!(err("pkcs11:object=a;").contains("no '='"));
        assert!(err("pkcs11:;object=a").contains("no '='"));
        assert!(err("pkcs11:=a").contains("attribute name"));
        assert!(err("pkcs11:ob ject=a").contains("attribute name"));
        assert!(err("pkcs11:object=a;object=b").contains("more than once"));
        assert!(err("pkcs11:object=a?pin-value=1&pin-value=2").contains("more than once"));
        assert!(err("pkcs11:object=a?pin-value=1&pin-source=/p").contains("both"));
        assert!(err("pkcs11:object=%").contains("two hex digits"));
        assert!(err("pkcs11:object=%4").contains("two hex digits"));
        assert!(err("pkcs11:object=%zz").contains("two hex digits"));
        assert!(err("pkcs11:object=%+1").contains("two hex digits"));
        assert!(err("pkcs11:object=%é1").contains("two hex digits"));
        assert!(err("pkcs11:object=a\nb").contains("not allowed"));
        assert!(err("pkcs11:object=a#frag").contains("not allowed"));
        assert!(err("pkcs11:type=secret").contains("type"));
        assert!(err("pkcs11:slot-id=-1").contains("slot-id"));
        assert!(err("pkcs11:slot-id=").contains("slot-id"));
        assert!(err("pkcs11:slot-id=99999999999999999999999").contains("slot-id"));
        assert!(err("pkcs11:library-version=1.2.3").contains("library-version"));
        assert!(err("pkcs11:library-version=300").contains("library-version"));
        assert!(err("pkcs11:object=a?module-path=lib.so").contains("absolute"));
        assert!(err("pkcs11:object=a?module-path=/x%00y").contains("NUL"));
        assert!(err("pkcs11:object=a?pin-value=1%002").contains("NUL"));
        assert!(err("pkcs11:object=a?").contains("empty query"));
        assert!(err("pkcs11:object=a?&").contains("no '='"));
    }

    #[test]
    fn binary_values_survive() {
        let u = ok("pkcs11:id=%00%FF%0a;object=%E2%82%AC%00");
        assert_eq!(u.id(), Some(&[0, 0xff, 0x0a][..]));
        assert_eq!(u.object(), Some(&[0xe2, 0x82, 0xac, 0][..]));
        let long = format!("pkcs11:object={}", "%41".repeat(100_000));
        assert_eq!(ok(&long).object().map(<[u8]>::len), Some(100_000));
    }
}
