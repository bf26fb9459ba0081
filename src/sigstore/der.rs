//! Just enough DER to cut an extension out of a TBSCertificate (for SCTs) and read a few
//! certificate extension values. Definite lengths and low tag numbers only, as X.509 uses.

use crate::error::Result;
use crate::sigstore::malformed;

/// One TLV: tag, the whole encoding and its content.
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub whole: &'a [u8],
    pub content: &'a [u8],
}

/// Reads the TLV at the start of `b`; returns it and what follows.
pub(crate) fn read(b: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let bad = || malformed("truncated or invalid DER");
    let tag = *b.first().ok_or_else(bad)?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("DER with high tag numbers is not expected here"));
    }
    let l0 = *b.get(1).ok_or_else(bad)?;
    let (len, hdr) = if l0 < 0x80 {
        (l0 as usize, 2)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(bad());
        }
        let bytes = b.get(2..2 + n).ok_or_else(bad)?;
        (
            bytes.iter().fold(0usize, |a, &x| (a << 8) | x as usize),
            2 + n,
        )
    };
    let end = hdr.checked_add(len).ok_or_else(bad)?;
    let whole = b.get(..end).ok_or_else(bad)?;
    Ok((
        Tlv {
            tag,
            whole,
            content: &whole[hdr..],
        },
        &b[end..],
    ))
}

/// All TLVs in `b`, in order.
pub(crate) fn children(mut b: &[u8]) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, rest) = read(b)?;
        out.push(t);
        b = rest;
    }
    Ok(out)
}

/// Encodes a TLV.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&x| x == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The TBSCertificate of a DER certificate with the extension `oid` (DER OID content bytes)
/// removed; errors when the certificate has no such extension.
pub(crate) fn tbs_without_extension(cert_der: &[u8], oid: &[u8]) -> Result<Vec<u8>> {
    let (cert, _) = read(cert_der)?;
    let (tbs, _) = read(cert.content)?;
    let mut found = false;
    let mut out = Vec::with_capacity(tbs.whole.len());
    for field in children(tbs.content)? {
        if field.tag != 0xa3 {
            out.extend_from_slice(field.whole);
            continue;
        }
        let (exts, _) = read(field.content)?;
        let mut kept = Vec::new();
        for ext in children(exts.content)? {
            let (id, _) = read(ext.content)?;
            if id.tag == 0x06 && id.content == oid {
                found = true;
            } else {
                kept.extend_from_slice(ext.whole);
            }
        }
        out.extend(encode(0xa3, &encode(0x30, &kept)));
    }
    if !found {
        return Err(malformed("the certificate has no such extension"));
    }
    Ok(encode(0x30, &out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let enc = encode(0x04, &content);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (t, rest) = read(&enc).unwrap();
        assert_eq!(t.content, &content[..]);
        assert!(rest.is_empty());
        assert!(read(&enc[..100]).is_err());
    }
}
