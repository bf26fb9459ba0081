//! Downloads checked against a signed manifest as the bytes arrive.
//!
//! Each file goes to a `.incomplete` name first. Every byte is hashed in the signature's
//! serialization (and with SHA-256 / the git blob hash, to hold the server to its own
//! listing); only a file whose digests match is renamed to where a loader looks. A file
//! that does not match is deleted. An interrupted download keeps its `.incomplete` file
//! and is resumed with a `Range` request, after hashing the bytes already there from the
//! start: a resumed file is checked as thoroughly as a fresh one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::hash::algorithm::Hasher;
use crate::hub::api::{HubClient, RemoteFile};
use crate::hub::cache::CachedRepo;
use crate::hub::RepoId;
use crate::manifest::{Digest, HashAlgorithm, Manifest, Method, ModelPath, ResourceKey};
use crate::verify::{ManifestDiff, Mismatch};

const CHUNK: usize = 1 << 20;

/// Progress of a download: one total and one bar per file.
pub trait DownloadProgress: Sync {
    /// `total` bytes are about to be checked (downloaded or re-read from disk).
    fn start(&self, _total: u64) {}
    /// A file starts; `size` bytes.
    fn file_start(&self, _name: &str, _size: u64) {}
    /// `bytes` more bytes of the current file were hashed.
    fn advance(&self, _bytes: u64) {}
    /// The current file is done.
    fn file_done(&self) {}
    /// Everything is done.
    fn finish(&self) {}
    /// True when the caller wants the download stopped (Ctrl-C seen by a front end that
    /// cannot take the signal itself, like the Python binding). Checked before each file
    /// and after each chunk; a partly downloaded file is kept for the next run to resume.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The error of a download stopped through [`DownloadProgress::cancelled`].
fn interrupted() -> Error {
    Error::Other("download interrupted; run it again to resume".into())
}

/// No progress display.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDownloadProgress;

impl DownloadProgress for NoDownloadProgress {}

/// Where downloaded files go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// The Hugging Face cache: blobs, a snapshot of links, refs.
    Cache(CachedRepo),
    /// A plain folder (`--local-dir`).
    Dir(PathBuf),
}

/// What a download did.
#[derive(Debug, Default, Clone)]
pub struct DownloadReport {
    /// The folder holding the model (the snapshot, or the local dir).
    pub folder: PathBuf,
    /// Files checked.
    pub files: usize,
    /// Bytes received over the network.
    pub bytes_downloaded: u64,
    /// Bytes already present (cache hit or resumed part), re-hashed from disk.
    pub bytes_reused: u64,
    /// Total size of the checked files.
    pub bytes: u64,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// Signed files left out by `--include` / `--exclude`, not downloaded.
    pub not_downloaded: Vec<String>,
}

/// Hashes one file's bytes into the manifest's resources, in order.
struct ResourceHasher {
    path: ModelPath,
    alg: HashAlgorithm,
    label: String,
    shard: Option<u64>,
    pos: u64,
    start: u64,
    cur: Hasher,
    out: Vec<(ResourceKey, Digest)>,
}

impl ResourceHasher {
    fn new(path: ModelPath, manifest: &Manifest) -> Self {
        let ser = &manifest.serialization;
        ResourceHasher {
            path,
            alg: ser.hash,
            label: ser.resource_algorithm(),
            shard: match ser.method {
                Method::Files => None,
                Method::Shards { shard_size } => Some(shard_size),
            },
            pos: 0,
            start: 0,
            cur: Hasher::new(ser.hash),
            out: Vec::new(),
        }
    }

    fn close_shard(&mut self) {
        let h = std::mem::replace(&mut self.cur, Hasher::new(self.alg));
        self.out.push((
            ResourceKey::Shard {
                path: self.path.clone(),
                start: self.start,
                end: self.pos,
            },
            Digest {
                algorithm: self.label.clone(),
                value: h.finalize(),
            },
        ));
        self.start = self.pos;
    }

    fn update(&mut self, mut data: &[u8]) {
        let Some(size) = self.shard else {
            self.cur.update(data);
            self.pos += data.len() as u64;
            return;
        };
        while !data.is_empty() {
            let room = (self.start + size - self.pos) as usize;
            let take = room.min(data.len());
            self.cur.update(&data[..take]);
            self.pos += take as u64;
            data = &data[take..];
            if self.pos - self.start == size {
                self.close_shard();
            }
        }
    }

    fn finish(mut self) -> Vec<(ResourceKey, Digest)> {
        match self.shard {
            None => {
                let d = std::mem::replace(&mut self.cur, Hasher::new(self.alg)).finalize();
                self.out.push((
                    ResourceKey::File(self.path.clone()),
                    Digest {
                        algorithm: self.label.clone(),
                        value: d,
                    },
                ));
            }
            Some(_) if self.pos > self.start => self.close_shard(),
            Some(_) => {}
        }
        self.out
    }
}

/// All the hashes one file's bytes go through.
struct FileHasher {
    resources: ResourceHasher,
    sha256: Sha256,
    git: openssl::sha::Sha1,
    len: u64,
}

impl FileHasher {
    fn new(file: &RemoteFile, manifest: &Manifest) -> Self {
        let mut git = openssl::sha::Sha1::new();
        git.update(format!("blob {}\0", file.size).as_bytes());
        FileHasher {
            resources: ResourceHasher::new(file.path.clone(), manifest),
            sha256: Sha256::new(),
            git,
            len: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.resources.update(data);
        self.sha256.update(data);
        self.git.update(data);
        self.len += data.len() as u64;
    }
}

/// Checks a finished file against the signed manifest and against the listing. Returns a
/// description of what differs, or `None` when all agree.
fn check_file(
    file: &RemoteFile,
    h: FileHasher,
    expected: &BTreeMap<ResourceKey, Digest>,
) -> Option<Error> {
    let sha256: [u8; 32] = h.sha256.finalize().into();
    let git = h.git.finish();
    let got: BTreeMap<ResourceKey, Digest> = h.resources.finish().into_iter().collect();
    let mine: BTreeMap<ResourceKey, Digest> = expected
        .iter()
        .filter(|(k, _)| k.path() == &file.path)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let diff = ManifestDiff::between(&mine, &got);
    if !diff.is_empty() {
        return Some(Error::ModelMismatch(diff.into()));
    }
    let listing_ok = match &file.sha256 {
        Some(d) => *d == sha256,
        None => hex::encode(git) == file.blob_id,
    };
    if !listing_ok {
        return Some(Error::Other(format!(
            "{}: the bytes served match the signature but not the Hub's own listing (sha256 {}); the server is inconsistent",
            file.path,
            hex::encode(sha256)
        )));
    }
    None
}

/// Compares the listing with the signed manifest before anything is downloaded: the same
/// files, and for SHA-256 file signatures, the same LFS digests.
pub fn precheck(files: &[RemoteFile], manifest: &Manifest) -> Result<()> {
    let signed: BTreeSet<&ModelPath> = manifest.resources.keys().map(|k| k.path()).collect();
    // Shard serialization gives an empty file no resource at all.
    let shards = matches!(manifest.serialization.method, Method::Shards { .. });
    let listed: BTreeSet<&ModelPath> = files
        .iter()
        .filter(|f| !(shards && f.size == 0))
        .map(|f| &f.path)
        .collect();
    let mut diff = ManifestDiff {
        missing: signed.difference(&listed).map(|p| p.to_string()).collect(),
        extra: listed.difference(&signed).map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    let ser = &manifest.serialization;
    if ser.method == Method::Files && ser.hash == HashAlgorithm::Sha256 {
        for f in files {
            if let (Some(d), Some(exp)) = (
                f.sha256,
                manifest.resources.get(&ResourceKey::File(f.path.clone())),
            ) {
                if exp.value != d {
                    diff.mismatched.push(Mismatch {
                        name: f.path.to_string(),
                        expected: exp.to_string(),
                        actual: format!("sha256:{} (Hub listing)", hex::encode(d)),
                    });
                }
            }
        }
    }
    diff.pair_unicode_forms();
    if diff.is_empty() {
        Ok(())
    } else {
        Err(Error::ModelMismatch(diff.into()))
    }
}

/// Downloads files of one commit, each checked against the signed manifest.
pub struct Downloader<'a> {
    /// The Hub client.
    pub client: &'a HubClient,
    /// The repository.
    pub repo: &'a RepoId,
    /// The resolved commit.
    pub commit: &'a str,
    /// The signed manifest.
    pub manifest: &'a Manifest,
    /// Where files go.
    pub dest: Destination,
}

/// Takes an advisory lock so two downloads never append to the same partial file.
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor owned by `file`, which outlives the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn hash_existing(path: &Path, h: &mut FileHasher, progress: &dyn DownloadProgress) -> Result<u64> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    let mut n_total = 0;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(n_total);
        }
        h.update(&buf[..n]);
        progress.advance(n as u64);
        n_total += n as u64;
        if progress.cancelled() {
            return Err(interrupted());
        }
    }
}

impl Downloader<'_> {
    fn final_path(&self, f: &RemoteFile) -> Result<PathBuf> {
        match &self.dest {
            Destination::Cache(c) => c.blob(&f.etag()),
            Destination::Dir(d) => Ok(d.join(f.path.as_str())),
        }
    }

    fn incomplete_path(&self, f: &RemoteFile) -> Result<PathBuf> {
        match &self.dest {
            Destination::Cache(c) => Ok(c.blobs().join(format!("{}.incomplete", f.etag()))),
            Destination::Dir(d) => Ok(d
                .join(".cache/huggingface/download")
                .join(format!("{}.incomplete", f.path))),
        }
    }

    /// Creates the folder `path` goes in. Inside a `--local-dir`, no component may be a
    /// link: a `sub -> ../outside` already there would carry the download out of it.
    fn create_parent(&self, path: &Path) -> Result<()> {
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        match &self.dest {
            Destination::Dir(d) => {
                let rel = parent.strip_prefix(d).map_err(|_| {
                    Error::Other(format!("{}: not inside {}", path.display(), d.display()))
                })?;
                crate::store::file::create_dirs_below(d, rel)?;
            }
            Destination::Cache(_) => {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        Ok(())
    }

    /// The folder the model ends up in.
    pub fn folder(&self) -> Result<PathBuf> {
        match &self.dest {
            Destination::Cache(c) => c.snapshot(self.commit),
            Destination::Dir(d) => Ok(d.clone()),
        }
    }

    /// Places a file already checked (the signature, say) at `path` in the model folder.
    pub fn place_bytes(&self, path: &ModelPath, bytes: &[u8]) -> Result<()> {
        match &self.dest {
            Destination::Cache(c) => {
                let mut git = openssl::sha::Sha1::new();
                git.update(format!("blob {}\0", bytes.len()).as_bytes());
                git.update(bytes);
                let etag = hex::encode(git.finish());
                let blob = c.blob(&etag)?;
                fs::create_dir_all(c.blobs()).map_err(|e| Error::io(c.blobs(), e))?;
                crate::store::file::write_atomic(&blob, bytes)?;
                c.link(self.commit, path, &etag)?;
            }
            Destination::Dir(d) => {
                let dest = d.join(path.as_str());
                self.create_parent(&dest)?;
                crate::store::file::write_atomic(&dest, bytes)?;
            }
        }
        Ok(())
    }

    /// Downloads and checks every file `selection` takes; fails on the first file that
    /// does not match, after deleting it. The whole listing is compared with the signature
    /// first, selected or not.
    pub fn run(
        &self,
        files: &[RemoteFile],
        selection: &crate::hub::select::Selection,
        progress: &dyn DownloadProgress,
    ) -> Result<DownloadReport> {
        precheck(files, self.manifest)?;
        let folder = self.folder()?;
        let (files, left_out): (Vec<&RemoteFile>, Vec<&RemoteFile>) = files
            .iter()
            .partition(|f| selection.selects(f.path.as_str()));
        let mut report = DownloadReport {
            folder: folder.clone(),
            not_downloaded: left_out.iter().map(|f| f.path.to_string()).collect(),
            ..Default::default()
        };
        progress.start(files.iter().map(|f| f.size).sum());
        for f in files {
            if progress.cancelled() {
                return Err(interrupted());
            }
            progress.file_start(f.path.as_str(), f.size);
            self.one(f, &mut report, progress)?;
            progress.file_done();
            report.files += 1;
            report.bytes += f.size;
        }
        progress.finish();
        fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        Ok(report)
    }

    fn one(
        &self,
        f: &RemoteFile,
        report: &mut DownloadReport,
        progress: &dyn DownloadProgress,
    ) -> Result<()> {
        let final_path = self.final_path(f)?;
        let partial = self.incomplete_path(f)?;
        for p in [&final_path, &partial] {
            self.create_parent(p)?;
        }
        // A file already in place is trusted only after hashing it again.
        if let Ok(meta) = fs::symlink_metadata(&final_path) {
            if meta.is_file() && meta.len() == f.size {
                let mut h = FileHasher::new(f, self.manifest);
                let n = hash_existing(&final_path, &mut h, progress)?;
                match check_file(f, h, &self.manifest.resources) {
                    None if n == f.size => {
                        report.bytes_reused += n;
                        self.publish(f)?;
                        return Ok(());
                    }
                    _ => report.warnings.push(format!(
                        "{}: the copy already on disk did not match its signature; downloaded again",
                        f.path
                    )),
                }
            } else {
                report.warnings.push(format!(
                    "{}: the copy already on disk has the wrong size or type; downloaded again",
                    f.path
                ));
            }
            fs::remove_file(&final_path).map_err(|e| Error::io(&final_path, e))?;
        }

        let mut h = FileHasher::new(f, self.manifest);
        if fs::symlink_metadata(&partial).is_ok_and(|m| !m.is_file()) {
            fs::remove_file(&partial).map_err(|e| Error::io(&partial, e))?;
        }
        // O_NOFOLLOW: a link put there after the check above is not followed either.
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&partial)
            .map_err(|e| Error::io(&partial, e))?;
        lock_exclusive(&out).map_err(|e| {
            Error::Other(format!(
                "{}: another download holds {} ({e}); wait for it to finish",
                f.path,
                partial.display()
            ))
        })?;
        let mut have = out.metadata().map_err(|e| Error::io(&partial, e))?.len();
        if have > f.size {
            out.set_len(0).map_err(|e| Error::io(&partial, e))?;
            have = 0;
        }
        if have > 0 {
            hash_existing(&partial, &mut h, progress)?;
            report.bytes_reused += have;
        }
        if have < f.size || (f.size == 0 && have == 0) {
            let dl = self
                .client
                .open_file(self.repo, self.commit, f.path.as_str(), have)?;
            if let Some(c) = &dl.repo_commit {
                if c != self.commit {
                    return Err(Error::Other(format!(
                        "{}: the Hub served it from commit {c}, not {}",
                        f.path, self.commit
                    )));
                }
            }
            if let Some(e) = &dl.etag {
                if !e.eq_ignore_ascii_case(&f.etag()) {
                    return Err(Error::Other(format!(
                        "{}: the Hub's etag {e} differs from its listing ({})",
                        f.path,
                        f.etag()
                    )));
                }
            }
            if dl.offset != have {
                // The server ignored the range: start over, from byte 0.
                out.set_len(0).map_err(|e| Error::io(&partial, e))?;
                h = FileHasher::new(f, self.manifest);
                report.bytes_reused -= have;
            }
            let mut body = dl.body;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = match body.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = out.sync_all();
                        return Err(Error::Network(format!(
                            "{}: download interrupted after {} of {} bytes ({}); run the same command again to resume",
                            f.path,
                            h.len,
                            f.size,
                            crate::net::body_error(&e, crate::net::Purpose::HubDownload)
                        )));
                    }
                };
                if n == 0 {
                    break;
                }
                if h.len + n as u64 > f.size {
                    drop(out);
                    let _ = fs::remove_file(&partial);
                    return Err(Error::Other(format!(
                        "{}: the Hub sent more than the {} bytes its listing gives; deleted",
                        f.path, f.size
                    )));
                }
                out.write_all(&buf[..n])
                    .map_err(|e| Error::io(&partial, e))?;
                h.update(&buf[..n]);
                progress.advance(n as u64);
                report.bytes_downloaded += n as u64;
                if progress.cancelled() {
                    return Err(interrupted());
                }
            }
            if h.len < f.size {
                let _ = out.sync_all();
                return Err(Error::Other(format!(
                    "{}: download interrupted after {} of {} bytes; run the same command again to resume",
                    f.path, h.len, f.size
                )));
            }
        }
        out.sync_all().map_err(|e| Error::io(&partial, e))?;
        drop(out);
        if let Some(err) = check_file(f, h, &self.manifest.resources) {
            fs::remove_file(&partial).map_err(|e| Error::io(&partial, e))?;
            return Err(err);
        }
        fs::rename(&partial, &final_path).map_err(|e| Error::io(&final_path, e))?;
        self.publish(f)
    }

    fn publish(&self, f: &RemoteFile) -> Result<()> {
        if let Destination::Cache(c) = &self.dest {
            c.link(self.commit, &f.path, &f.etag())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Serialization;

    fn manifest(method: Method, hash: HashAlgorithm) -> Manifest {
        Manifest {
            model_name: "m".into(),
            serialization: Serialization {
                method,
                hash,
                allow_symlinks: false,
                ignore_paths: vec![],
            },
            resources: BTreeMap::new(),
        }
    }

    #[test]
    fn streamed_shards_match_whole_shards() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
        let m = manifest(Method::Shards { shard_size: 3000 }, HashAlgorithm::Blake2b);
        let mut h = ResourceHasher::new(ModelPath::parse("w").unwrap(), &m);
        for chunk in data.chunks(777) {
            h.update(chunk);
        }
        let out = h.finish();
        assert_eq!(out.len(), 4);
        for (k, d) in &out {
            let ResourceKey::Shard { start, end, .. } = k else {
                panic!("not a shard")
            };
            let mut whole = Hasher::new(HashAlgorithm::Blake2b);
            whole.update(&data[*start as usize..*end as usize]);
            assert_eq!(d.value, whole.finalize());
        }
        assert!(matches!(
            out[3].0,
            ResourceKey::Shard {
                start: 9000,
                end: 10_000,
                ..
            }
        ));
    }
}
