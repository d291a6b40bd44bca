//! Value encryption as sops does it: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` with AES-256-GCM,
//! a 32-byte IV and the value's key path as additional data; and the SHA-512 MAC over all values.

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// AES-256-GCM with sops's 32-byte nonce (GHASHed into J0, as standard GCM does for non-96-bit IVs).
type Aes256Gcm32 = AesGcm<Aes256, U32>;
/// sops accepts any IV length the file carries; a 12-byte IV is the other length seen in the wild.
type Aes256Gcm12 = aes_gcm::Aes256Gcm;

/// The 32-byte data key of a file. Zeroed on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    pub fn generate() -> DataKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        DataKey(k)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<DataKey> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(arr))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A parsed `ENC[…]` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncValue {
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    pub typ: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    #[error("value does not match sops' data format (ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])")]
    Format,
    #[error("invalid base64 in the {0} field")]
    Base64(&'static str),
    #[error("unsupported IV length {0}")]
    IvLength(usize),
    #[error("authentication failed (wrong data key, value moved to another key, or tampered ciphertext)")]
    Auth,
    #[error("unknown value type {0:?}")]
    UnknownType(String),
}

pub fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,data:")
}

/// Parse with sops's regex semantics: `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`
/// with greedy groups (so the *last* `,iv:`, `,tag:`, `,type:` and `]` delimit the fields).
pub fn parse_enc(s: &str) -> Result<EncValue, CryptError> {
    let rest = s
        .strip_prefix("ENC[AES256_GCM,data:")
        .ok_or(CryptError::Format)?;
    let close = rest.rfind(']').ok_or(CryptError::Format)?;
    let body = &rest[..close];
    let ti = body.rfind(",type:").ok_or(CryptError::Format)?;
    let typ = &body[ti + 6..];
    let before = &body[..ti];
    let gi = before.rfind(",tag:").ok_or(CryptError::Format)?;
    let tag = &before[gi + 5..];
    let before = &before[..gi];
    let ii = before.rfind(",iv:").ok_or(CryptError::Format)?;
    let iv = &before[ii + 4..];
    let data = &before[..ii];
    if data.is_empty() || iv.is_empty() || tag.is_empty() || typ.is_empty() {
        return Err(CryptError::Format);
    }
    Ok(EncValue {
        data: B64.decode(data).map_err(|_| CryptError::Base64("data"))?,
        iv: B64.decode(iv).map_err(|_| CryptError::Base64("iv"))?,
        tag: B64.decode(tag).map_err(|_| CryptError::Base64("tag"))?,
        typ: typ.to_string(),
    })
}

pub fn format_enc(v: &EncValue) -> String {
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        B64.encode(&v.data),
        B64.encode(&v.iv),
        B64.encode(&v.tag),
        v.typ
    )
}

/// A fresh IV. `thread_rng` is a ChaCha-based CSPRNG seeded (and periodically reseeded) from
/// the OS: one getrandom call per value would dominate the cost of encrypting large files.
pub fn random_iv() -> [u8; 32] {
    let mut iv = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut iv);
    iv
}

/// The data key's AES-256-GCM key schedule, built once per file rather than once per value
/// (the expanded key is zeroized on drop with the `zeroize` feature of aes-gcm).
pub struct Cipher {
    c32: Aes256Gcm32,
    key: DataKey,
}

impl Cipher {
    pub fn new(key: &DataKey) -> Cipher {
        Cipher {
            c32: Aes256Gcm32::new(key.as_bytes().into()),
            key: key.clone(),
        }
    }

    pub fn encrypt(&self, plaintext: &[u8], iv: &[u8; 32], aad: &[u8], typ: &str) -> String {
        seal_with(&self.c32, plaintext, iv, aad, typ)
    }

    pub fn decrypt(&self, enc: &str, aad: &[u8]) -> Result<Decrypted, CryptError> {
        open_with(&self.c32, &self.key, enc, aad)
    }
}

/// Encrypt `plaintext` (non-empty; sops never encrypts "") with the given IV and AAD.
pub fn encrypt(key: &DataKey, plaintext: &[u8], iv: &[u8; 32], aad: &[u8], typ: &str) -> String {
    seal_with(
        &Aes256Gcm32::new(key.as_bytes().into()),
        plaintext,
        iv,
        aad,
        typ,
    )
}

fn seal_with(
    cipher: &Aes256Gcm32,
    plaintext: &[u8],
    iv: &[u8; 32],
    aad: &[u8],
    typ: &str,
) -> String {
    let mut out = cipher
        .encrypt(
            Nonce::<U32>::from_slice(iv),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let tag = out.split_off(out.len() - 16);
    format_enc(&EncValue {
        data: out,
        iv: iv.to_vec(),
        tag,
        typ: typ.to_string(),
    })
}

/// A decrypted value: plaintext (zeroized on drop), its `type:` label, and its 32-byte IV (none
/// when the file used another IV length) so that an unchanged value can be re-encrypted to the
/// identical ciphertext. Never a made-up IV: reusing one for different plaintext breaks GCM.
pub type Decrypted = (Zeroizing<Vec<u8>>, String, Option<[u8; 32]>);

/// Decrypt an `ENC[…]` string.
pub fn decrypt(key: &DataKey, enc: &str, aad: &[u8]) -> Result<Decrypted, CryptError> {
    open_with(&Aes256Gcm32::new(key.as_bytes().into()), key, enc, aad)
}

fn open_with(
    c32: &Aes256Gcm32,
    key: &DataKey,
    enc: &str,
    aad: &[u8],
) -> Result<Decrypted, CryptError> {
    let v = parse_enc(enc)?;
    let mut ct = Vec::with_capacity(v.data.len() + v.tag.len());
    ct.extend_from_slice(&v.data);
    ct.extend_from_slice(&v.tag);
    let payload = Payload { msg: &ct, aad };
    let pt = match v.iv.len() {
        32 => c32
            .decrypt(Nonce::<U32>::from_slice(&v.iv), payload)
            .map_err(|_| CryptError::Auth)?,
        12 => Aes256Gcm12::new(key.as_bytes().into())
            .decrypt(aes_gcm::Nonce::from_slice(&v.iv), payload)
            .map_err(|_| CryptError::Auth)?,
        n => return Err(CryptError::IvLength(n)),
    };
    let iv: Option<[u8; 32]> = v.iv.as_slice().try_into().ok();
    Ok((Zeroizing::new(pt), v.typ, iv))
}

/// SHA-256("sops"): the seed of the MAC when `mac_only_encrypted` is set.
pub const MAC_ONLY_ENCRYPTED_SEED: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// The running MAC: SHA-512 over the plaintext bytes of every hashed leaf, in document order.
pub struct Mac(Sha512);

impl Mac {
    pub fn new(mac_only_encrypted: bool) -> Mac {
        let mut h = Sha512::new();
        if mac_only_encrypted {
            h.update(MAC_ONLY_ENCRYPTED_SEED);
        }
        Mac(h)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// 128 uppercase hex characters, as sops writes it.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut s = String::with_capacity(128);
        for b in digest {
            s.push_str(&format!("{b:02X}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_only_encrypted_seed_is_sha256_of_sops() {
        use sha2::Sha256;
        assert_eq!(Sha256::digest(b"sops").as_slice(), &MAC_ONLY_ENCRYPTED_SEED);
    }

    #[test]
    fn encrypt_decrypt_round_trip_with_aad() {
        let key = DataKey::generate();
        let iv = random_iv();
        let s = encrypt(&key, b"hunter2", &iv, b"db:password:", "str");
        assert!(s.starts_with("ENC[AES256_GCM,data:"));
        let v = parse_enc(&s).unwrap();
        assert_eq!(v.iv.len(), 32);
        assert_eq!(v.tag.len(), 16);
        assert_eq!(v.data.len(), 7);
        let (pt, typ, iv2) = decrypt(&key, &s, b"db:password:").unwrap();
        assert_eq!(&pt[..], b"hunter2");
        assert_eq!(typ, "str");
        assert_eq!(iv2, Some(iv));
        // Moving the value to another key changes the AAD: refused.
        assert_eq!(
            decrypt(&key, &s, b"db:user:").unwrap_err(),
            CryptError::Auth
        );
        // Another key: refused.
        assert_eq!(
            decrypt(&DataKey::generate(), &s, b"db:password:").unwrap_err(),
            CryptError::Auth
        );
    }

    #[test]
    fn field_lengths_match_sops() {
        let key = DataKey::generate();
        let s = encrypt(&key, b"True", &random_iv(), b"a:", "bool");
        let v = parse_enc(&s).unwrap();
        assert_eq!(B64.encode(&v.iv).len(), 44);
        assert_eq!(B64.encode(&v.tag).len(), 24);
        assert_eq!(B64.encode(&v.data).len(), 8);
    }

    #[test]
    fn parse_rejects_non_enc_strings() {
        for s in [
            "hello",
            "ENC[AES256_GCM,data:,iv:a,tag:b,type:str]",
            "ENC[AES256_GCM,data:QQ==]",
            "",
        ] {
            assert!(parse_enc(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_enc("ENC[AES256_GCM,data:QQ==,iv:QQ==,tag:QQ==,type:str]")
                .unwrap()
                .typ,
            "str"
        );
    }

    #[test]
    fn same_iv_same_plaintext_gives_identical_ciphertext() {
        let key = DataKey::generate();
        let iv = random_iv();
        assert_eq!(
            encrypt(&key, b"x", &iv, b"a:", "str"),
            encrypt(&key, b"x", &iv, b"a:", "str")
        );
    }

    #[test]
    fn mac_is_uppercase_hex_sha512() {
        let mut m = Mac::new(false);
        m.update(b"abc");
        let s = m.finish();
        assert_eq!(s.len(), 128);
        assert!(s.starts_with("DDAF35A193617ABA"));
    }
}
