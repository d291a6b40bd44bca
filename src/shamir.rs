//! Shamir secret sharing over GF(2^8) exactly as sops vendors it from HashiCorp Vault: the AES
//! field (x^8+x^4+x^3+x+1), one random polynomial per secret byte, a share is the y-bytes followed
//! by one byte holding x. sops 3.11 uses x = 1, 2, 3…; older files used random distinct x, so x is
//! always read from the share.

use rand::RngCore;
use zeroize::Zeroizing;

fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

fn inv(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8).
    let mut r = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 != 0 {
            r = mul(r, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    r
}

fn div(a: u8, b: u8) -> u8 {
    mul(a, inv(b))
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShamirError {
    #[error("threshold must be between 2 and the number of parts (got threshold {threshold} for {parts} parts)")]
    Threshold { threshold: usize, parts: usize },
    #[error("at least two shares are needed to recover the data key")]
    TooFew,
    #[error("shares have different lengths")]
    Lengths,
    #[error("two shares have the same x coordinate")]
    Duplicate,
}

/// Split `secret` into `parts` shares, any `threshold` of which recover it.
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if threshold < 2 || threshold > parts || parts > 255 {
        return Err(ShamirError::Threshold { threshold, parts });
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut v = vec![0u8; secret.len() + 1];
            v[secret.len()] = (i + 1) as u8;
            Zeroizing::new(v)
        })
        .collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold]);
    for (k, &byte) in secret.iter().enumerate() {
        coeffs[0] = byte;
        rand::rngs::OsRng.fill_bytes(&mut coeffs[1..]);
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            // Horner evaluation of the polynomial at x.
            let mut y = 0u8;
            for &c in coeffs.iter().rev() {
                y = mul(y, x) ^ c;
            }
            share[k] = y;
        }
    }
    Ok(shares)
}

/// Recover the secret from shares by Lagrange interpolation at x = 0.
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::TooFew);
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err(ShamirError::Lengths);
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for i in 0..xs.len() {
        for j in i + 1..xs.len() {
            if xs[i] == xs[j] {
                return Err(ShamirError::Duplicate);
            }
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (j, share) in shares.iter().enumerate() {
        // Lagrange basis at 0: prod_{m != j} x_m / (x_j ^ x_m)
        let mut basis = 1u8;
        for (m, &xm) in xs.iter().enumerate() {
            if m != j {
                basis = mul(basis, div(xm, xs[j] ^ xm));
            }
        }
        for k in 0..len - 1 {
            secret[k] ^= mul(share[k], basis);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_inverse() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "{a}");
        }
        assert_eq!(mul(0x53, 0xca), 1); // the AES field's textbook pair
    }

    #[test]
    fn split_combine_any_threshold_subset() {
        let secret: Vec<u8> = (0..32u8).collect();
        let shares = split(&secret, 3, 2).unwrap();
        assert!(shares.iter().all(|s| s.len() == 33));
        assert_eq!(
            shares.iter().map(|s| s[32]).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            assert_eq!(
                &combine(&[&shares[a], &shares[b]]).unwrap()[..],
                &secret[..]
            );
        }
        assert_eq!(
            &combine(&[&shares[0], &shares[1], &shares[2]]).unwrap()[..],
            &secret[..]
        );
        let shares = split(&secret, 3, 3).unwrap();
        assert_ne!(
            &combine(&[&shares[0], &shares[1]]).unwrap()[..],
            &secret[..]
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(split(b"k", 2, 1).is_err());
        assert!(split(b"k", 2, 3).is_err());
        assert_eq!(combine(&[b"ab".as_slice()]), Err(ShamirError::TooFew));
        assert_eq!(
            combine(&[b"ab".as_slice(), b"cb"]),
            Err(ShamirError::Duplicate)
        );
    }
}
