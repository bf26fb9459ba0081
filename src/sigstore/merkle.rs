//! RFC 6962 / RFC 9162 Merkle tree hashes and inclusion proofs.

use sha2::{Digest as _, Sha256};

use crate::error::Result;
use crate::sigstore::invalid;

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root a proof leads to from `leaf` at `index` in a tree of `size` leaves
/// (RFC 9162 section 2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
) -> Result<[u8; 32]> {
    if index >= size {
        return Err(invalid(format!(
            "inclusion proof: leaf index {index} is outside a tree of {size} leaves"
        )));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if s == 0 {
            return Err(invalid(
                "inclusion proof has more hashes than the tree has levels",
            ));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(invalid(
            "inclusion proof has fewer hashes than the tree has levels",
        ));
    }
    Ok(r)
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
    root: &[u8; 32],
) -> Result<()> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if &computed != root {
        return Err(invalid(
            "inclusion proof does not lead to the checkpoint's root hash: the entry is not in the log",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&tree_root(&leaves[..k]), &tree_root(&leaves[k..]))
    }

    fn proof(leaves: &[[u8; 32]], m: usize) -> Vec<[u8; 32]> {
        if leaves.len() == 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = proof(&leaves[..k], m);
            p.push(tree_root(&leaves[k..]));
            p
        } else {
            let mut p = proof(&leaves[k..], m - k);
            p.push(tree_root(&leaves[..k]));
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree() {
        for n in 1..=17usize {
            let leaves: Vec<_> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let root = tree_root(&leaves);
            for m in 0..n {
                let p = proof(&leaves, m);
                verify_inclusion(m as u64, n as u64, leaves[m], &p, &root).unwrap();
                // Another leaf, another index, a truncated proof: all rejected.
                let other = leaf_hash(b"x");
                assert!(verify_inclusion(m as u64, n as u64, other, &p, &root).is_err());
                if n > 1 {
                    let wrong = (m + 1) % n;
                    assert!(
                        verify_inclusion(wrong as u64, n as u64, leaves[m], &p, &root).is_err()
                    );
                    assert!(
                        verify_inclusion(m as u64, n as u64, leaves[m], &p[1..], &root).is_err()
                    );
                }
            }
            assert!(verify_inclusion(n as u64, n as u64, leaves[0], &[], &root).is_err());
        }
    }
}
