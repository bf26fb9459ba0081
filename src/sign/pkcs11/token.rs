//! The token side: load the module, pick the token, log in, find the EC key pair, sign
//! a digest with `CKM_ECDSA`.

use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;

use crate::bundle::{pae, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::sign::key::ec_digest;
use crate::sign::pkcs11::uri::{self, Pkcs11Uri};
use crate::sign::pkcs11::{module, pin, PinPrompt, Pkcs11Options};

fn token_error(what: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::KeyMaterial {
        what: what.into(),
        reason: reason.into(),
    }
}

fn device_error(step: &str, e: CkError) -> Error {
    Error::Other(format!("PKCS #11 {step} failed: {e}"))
}

/// An open, logged-in session and the EC key pair the URI names.
pub(crate) struct TokenKey {
    // Declared before `_ctx` so the session closes before the module can go away.
    session: Mutex<Session>,
    key: ObjectHandle,
    public: PKey<Public>,
    field_bytes: usize,
    _ctx: Pkcs11,
}

impl TokenKey {
    /// Opens the token and finds the key; `leaf` stands in for a missing public key object.
    pub(crate) fn open(
        uri_text: &str,
        options: &Pkcs11Options<'_>,
        leaf: Option<&X509>,
    ) -> Result<Self> {
        let uri = Pkcs11Uri::parse(uri_text).map_err(|e| Error::Usage(e.to_string()))?;
        let unknown = uri.unknown_path_attributes();
        if !unknown.is_empty() {
            return Err(Error::Usage(format!(
                "the PKCS #11 URI has path attribute(s) msign does not understand ({}); \
                 RFC 7512 says such a URI identifies nothing",
                unknown.join(", ")
            )));
        }
        let criteria = KeyCriteria::from_uri(&uri)?;
        let module = module::resolve_module(
            &uri,
            options.module_path.as_deref(),
            &options.module_directories,
        )?;
        let ctx = Pkcs11::new(&module).map_err(|e| {
            token_error(
                module.display().to_string(),
                format!("cannot load the PKCS #11 module: {e}"),
            )
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(device_error("module initialisation", e)),
        }
        let (slot, label) = find_token(&ctx, &uri)?;
        let session = ctx
            .open_ro_session(slot)
            .map_err(|e| device_error("opening a session", e))?;
        login(&ctx, &session, slot, &label, &uri, options.prompt)?;

        let key = criteria.find_one(&session, ObjectClass::PRIVATE_KEY, &label)?;
        let attrs = session
            .get_attributes(key, &[AttributeType::KeyType, AttributeType::EcParams])
            .map_err(|e| device_error("reading the private key", e))?;
        let mut key_type = None;
        let mut params = None;
        for a in attrs {
            match a {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                _ => {}
            }
        }
        match key_type {
            Some(t) if t == KeyType::EC => {}
            Some(t) => {
                return Err(token_error(
                    criteria.describe(&label),
                    format!(
                        "the private key is a {} key; msign signs with EC keys on P-256, P-384 or P-521",
                        t.to_string().trim_start_matches("CKK_")
                    ),
                ))
            }
            None => {
                return Err(token_error(
                    criteria.describe(&label),
                    "the token does not say the key's type",
                ))
            }
        }
        let group = curve_from_params(params.as_deref())
            .map_err(|r| token_error(criteria.describe(&label), r))?;
        let public = public_key(&session, &criteria, &label, &group, leaf)?;
        ec_digest(&public).map_err(|r| token_error(criteria.describe(&label), r))?;
        let field_bytes = (group.degree() as usize).div_ceil(8);
        Ok(TokenKey {
            session: Mutex::new(session),
            key,
            public,
            field_bytes,
            _ctx: ctx,
        })
    }

    /// The key's public half.
    pub(crate) fn public_key(&self) -> &PKey<Public> {
        &self.public
    }

    /// Signs the DSSE PAE of `payload`; returns a DER ECDSA signature checked against the
    /// public key.
    pub(crate) fn sign_pae(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let md = ec_digest(&self.public).map_err(Error::Other)?;
        let digest = openssl::hash::hash(md, &pae(PAYLOAD_TYPE, payload))
            .map_err(|e| Error::Other(format!("hashing failed: {e}")))?;
        let raw = {
            let session = self
                .session
                .lock()
                .map_err(|_| Error::Other("PKCS #11 session lock poisoned".into()))?;
            session
                .sign(&Mechanism::Ecdsa, self.key, &digest)
                .map_err(|e| device_error("signing", e))?
        };
        let der = raw_to_der(&raw, self.field_bytes)?;
        self.check(&digest, &der)?;
        Ok(der)
    }

    /// Verifies a fresh signature with the public key the bundle will name.
    fn check(&self, digest: &[u8], der: &[u8]) -> Result<()> {
        let ok = EcdsaSig::from_der(der)
            .and_then(|sig| {
                let ec = self.public.ec_key()?;
                sig.verify(digest, &ec)
            })
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(token_error(
                "PKCS #11 key",
                "the token's signature does not verify with the key's public half (its public \
                 key object, or the signing certificate when the token has none): they are not \
                 a pair",
            ))
        }
    }
}

/// Converts a PKCS #11 ECDSA signature (`r || s`, each `field_bytes` long) to DER.
pub(crate) fn raw_to_der(raw: &[u8], field_bytes: usize) -> Result<Vec<u8>> {
    if raw.len() != 2 * field_bytes {
        return Err(Error::Other(format!(
            "the token returned a {}-byte ECDSA signature; expected {}",
            raw.len(),
            2 * field_bytes
        )));
    }
    let (r, s) = raw.split_at(field_bytes);
    BigNum::from_slice(r)
        .and_then(|r| Ok((r, BigNum::from_slice(s)?)))
        .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
        .and_then(|sig| sig.to_der())
        .map_err(|e| Error::Other(format!("cannot encode the token's signature: {e}")))
}

/// The curve named by CKA_EC_PARAMS (a DER OID; explicit parameters are refused).
fn curve_from_params(params: Option<&[u8]>) -> std::result::Result<EcGroup, String> {
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
    let nid = match params {
        Some(P256) => Nid::X9_62_PRIME256V1,
        Some(P384) => Nid::SECP384R1,
        Some(P521) => Nid::SECP521R1,
        Some(other) => {
            return Err(format!(
                "unsupported curve (CKA_EC_PARAMS {}); use P-256, P-384 or P-521",
                hex::encode(other)
            ))
        }
        None => return Err("the token does not give the key's curve (CKA_EC_PARAMS)".into()),
    };
    EcGroup::from_curve_name(nid).map_err(|e| format!("curve unavailable: {e}"))
}

/// CKA_EC_POINT is a DER OCTET STRING holding the point; some tokens give the bare point.
fn unwrap_ec_point(v: &[u8]) -> &[u8] {
    let inner = match v {
        [0x04, n, rest @ ..] if (*n as usize) < 0x80 && rest.len() == *n as usize => Some(rest),
        [0x04, 0x81, n, rest @ ..] if rest.len() == *n as usize => Some(rest),
        [0x04, 0x82, a, b, rest @ ..] if rest.len() == u16::from_be_bytes([*a, *b]) as usize => {
            Some(rest)
        }
        _ => None,
    };
    match inner {
        Some(p) if matches!(p.first(), Some(0x02..=0x04)) => p,
        _ => v,
    }
}

/// The key's public half: the matching public key object, or else the signing
/// certificate's key (tokens may hold only the private key and a certificate).
fn public_key(
    session: &Session,
    criteria: &KeyCriteria,
    label: &str,
    group: &EcGroup,
    leaf: Option<&X509>,
) -> Result<PKey<Public>> {
    let found = criteria.find_all(session, ObjectClass::PUBLIC_KEY)?;
    let handle = match (found.as_slice(), leaf) {
        ([h], _) => *h,
        ([], Some(cert)) => {
            return cert.public_key().map_err(|e| {
                token_error(
                    criteria.describe(label),
                    format!("certificate key unreadable ({e})"),
                )
            })
        }
        ([], None) => {
            return Err(token_error(
                criteria.describe(label),
                "the token holds the private key but no public key object with the same \
                 object/id; msign needs it to name the key in the signature",
            ))
        }
        (many, _) => {
            return Err(token_error(
                criteria.describe(label),
                format!(
                    "{} public key objects match; add id= to the URI to pick one",
                    many.len()
                ),
            ))
        }
    };
    let attrs = session
        .get_attributes(handle, &[AttributeType::EcPoint, AttributeType::EcParams])
        .map_err(|e| device_error("reading the public key", e))?;
    let mut point = None;
    let mut params = None;
    for a in attrs {
        match a {
            Attribute::EcPoint(p) => point = Some(p),
            Attribute::EcParams(p) => params = Some(p),
            _ => {}
        }
    }
    let pub_group = curve_from_params(params.as_deref())
        .map_err(|r| token_error(criteria.describe(label), format!("public key: {r}")))?;
    if pub_group.curve_name() != group.curve_name() {
        return Err(token_error(
            criteria.describe(label),
            "the public and private key objects are on different curves",
        ));
    }
    let point = point.ok_or_else(|| {
        token_error(
            criteria.describe(label),
            "the public key object has no CKA_EC_POINT",
        )
    })?;
    let mut bn =
        openssl::bn::BigNumContext::new().map_err(|e| Error::Other(format!("openssl: {e}")))?;
    EcPoint::from_bytes(group, unwrap_ec_point(&point), &mut bn)
        .and_then(|p| EcKey::from_public_key(group, &p))
        .and_then(PKey::from_ec_key)
        .map_err(|e| {
            token_error(
                criteria.describe(label),
                format!("the token's CKA_EC_POINT is not a point on the curve ({e})"),
            )
        })
}

/// Which objects the URI names: by label (`object=`) and/or id (`id=`).
struct KeyCriteria {
    label: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
}

impl KeyCriteria {
    fn from_uri(uri: &Pkcs11Uri) -> Result<Self> {
        use uri::ObjectType;
        if let Some(t @ (ObjectType::SecretKey | ObjectType::Data)) = uri.object_type() {
            return Err(Error::Usage(format!(
                "the PKCS #11 URI names a type={} object; a signing key is type=private",
                t.as_str()
            )));
        }
        let c = KeyCriteria {
            label: uri.object().map(<[u8]>::to_vec),
            id: uri.id().map(<[u8]>::to_vec),
        };
        if c.label.is_none() && c.id.is_none() {
            return Err(Error::Usage(
                "the PKCS #11 URI must name the key with object=LABEL or id=ID".into(),
            ));
        }
        Ok(c)
    }

    fn describe(&self, token: &str) -> String {
        let mut parts = vec![format!("token '{token}'")];
        if let Some(l) = &self.label {
            parts.push(format!("object '{}'", String::from_utf8_lossy(l)));
        }
        if let Some(i) = &self.id {
            parts.push(format!("id {}", hex::encode(i)));
        }
        parts.join(", ")
    }

    fn find_all(&self, session: &Session, class: ObjectClass) -> Result<Vec<ObjectHandle>> {
        let mut template = vec![Attribute::Class(class)];
        if let Some(l) = &self.label {
            template.push(Attribute::Label(l.clone()));
        }
        if let Some(i) = &self.id {
            template.push(Attribute::Id(i.clone()));
        }
        session
            .find_objects(&template)
            .map_err(|e| device_error("searching objects", e))
    }

    fn find_one(&self, session: &Session, class: ObjectClass, token: &str) -> Result<ObjectHandle> {
        match self.find_all(session, class)?.as_slice() {
            [h] => Ok(*h),
            [] => Err(token_error(
                self.describe(token),
                "no private key matches on the token (check object=/id= and the PIN)",
            )),
            many => Err(token_error(
                self.describe(token),
                format!(
                    "{} private keys match; add id= to the URI to pick one",
                    many.len()
                ),
            )),
        }
    }
}

fn text_matches(uri: &Pkcs11Uri, attr: &str, actual: &str) -> bool {
    uri.path_attr(attr)
        .is_none_or(|want| want == actual.trim_end_matches(' ').as_bytes())
}

/// The one slot whose token (and slot, and library) match the URI's path attributes.
fn find_token(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, String)> {
    let lib = ctx
        .get_library_info()
        .map_err(|e| device_error("reading library information", e))?;
    let lib_ok = text_matches(uri, "library-manufacturer", lib.manufacturer_id())
        && text_matches(uri, "library-description", lib.library_description())
        && uri.library_version().is_none_or(|(a, b)| {
            let v = lib.library_version();
            (v.major(), v.minor()) == (a, b)
        });
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| device_error("listing slots", e))?;
    let mut seen = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let (Ok(info), Ok(slot_info)) = (ctx.get_token_info(slot), ctx.get_slot_info(slot)) else {
            continue;
        };
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!("'{}' (slot-id={})", info.label(), slot.id()));
        let ok = lib_ok
            && uri.slot_id().is_none_or(|id| id == slot.id())
            && text_matches(uri, "slot-manufacturer", slot_info.manufacturer_id())
            && text_matches(uri, "slot-description", slot_info.slot_description())
            && text_matches(uri, "token", info.label())
            && text_matches(uri, "manufacturer", info.manufacturer_id())
            && text_matches(uri, "serial", info.serial_number())
            && text_matches(uri, "model", info.model());
        if ok {
            matching.push((slot, info.label().to_string()));
        }
    }
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(token_error(
            uri.redacted(),
            if seen.is_empty() {
                "the module has no token".to_string()
            } else {
                format!("no token matches; the module has {}", seen.join(", "))
            },
        )),
        n => Err(token_error(
            uri.redacted(),
            format!("{n} tokens match; add token= or slot-id= to the URI"),
        )),
    }
}

fn login(
    ctx: &Pkcs11,
    session: &Session,
    slot: Slot,
    label: &str,
    uri: &Pkcs11Uri,
    prompt: Option<&PinPrompt>,
) -> Result<()> {
    let needs_login = ctx
        .get_token_info(slot)
        .map_err(|e| device_error("reading token information", e))?
        .login_required();
    let pin = if let Some(v) = uri.pin_value() {
        Some(v.to_vec())
    } else if let Some(src) = uri.pin_source() {
        Some(pin::read_pin_source(src)?)
    } else if !needs_login {
        None
    } else if let Some(ask) = prompt {
        Some(ask(label).map_err(|e| Error::Other(format!("cannot read the PIN: {e}")))?)
    } else {
        return Err(token_error(
            format!("token '{label}'"),
            "the token needs a PIN: add pin-value=... or pin-source=/path/to/file to the URI, \
             or run in a terminal to be asked",
        ));
    };
    let Some(pin) = pin else {
        return Ok(());
    };
    let what = format!("token '{label}'");
    match session.login_with_raw(UserType::User, &RawAuthPin::new(Box::new(pin))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(token_error(what, "wrong PIN"))
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(token_error(
            what,
            "the PIN is locked (too many wrong attempts)",
        )),
        Err(CkError::Pkcs11(RvError::PinExpired, _)) => {
            Err(token_error(what, "the PIN has expired; change it first"))
        }
        Err(e) => Err(device_error("login", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_signatures_become_der() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[63] = 2;
        assert_eq!(
            raw_to_der(&raw, 32).unwrap(),
            vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]
        );
        // High bit set: DER needs a leading zero byte.
        let raw = vec![0xffu8; 96];
        let der = raw_to_der(&raw, 48).unwrap();
        assert_eq!(&der[2..5], &[0x02, 49, 0x00]);
        assert!(raw_to_der(&raw, 32).is_err());
        assert!(raw_to_der(&[], 66).is_err());
    }

    #[test]
    fn ec_points_with_and_without_octet_string() {
        let point = [&[0x04u8][..], &[7u8; 64]].concat();
        let wrapped = [&[0x04u8, 65][..], &point].concat();
        assert_eq!(unwrap_ec_point(&wrapped), &point[..]);
        assert_eq!(unwrap_ec_point(&point), &point[..]);
        let p521 = [&[0x04u8][..], &[7u8; 132]].concat();
        let wrapped = [&[0x04u8, 0x81, 133][..], &p521].concat();
        assert_eq!(unwrap_ec_point(&wrapped), &p521[..]);
        assert_eq!(unwrap_ec_point(&[]), &[] as &[u8]);
    }

    #[test]
    fn curves_from_params() {
        assert!(curve_from_params(Some(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22])).is_ok());
        let e = curve_from_params(Some(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a])).unwrap_err();
        assert!(e.contains("unsupported curve"), "{e}");
        assert!(curve_from_params(None).is_err());
    }
}
