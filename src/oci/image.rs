//! OCI manifests and indexes as read from a registry, and the model_signing manifest an
//! image manifest stands for: one resource per layer, named by its annotation, with the
//! layer's sha256 as the resource digest (no layer byte is read).
//!
//! The names and digests follow model-transparency-go's OCI manifest signing: the
//! `org.opencontainers.image.title` annotation names a layer (ORAS writes it), then the
//! ModelPack `org.cncf.model.filepath` annotation; with `include_config` the config blob
//! is the resource `config.json`. Unlike model-transparency-go, msign refuses a layer it
//! cannot name (it would sign `layer_000.tar.gz`, a file no pull writes) and, unless asked,
//! a layer that a pull unpacks (its digest is the archive's, not a file's).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{Digest, HashAlgorithm, Manifest, ModelPath, ResourceKey, Serialization};
use crate::oci::reference::check_digest;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The layer annotation ORAS writes with the file's name.
pub const TITLE: &str = "org.opencontainers.image.title";
/// The layer annotation CNCF ModelPack writes with the file's path in the model.
pub const MODELPACK_FILEPATH: &str = "org.cncf.model.filepath";
/// ORAS marks a pushed folder (a tar.gz the pull unpacks) with this annotation.
pub const ORAS_UNPACK: &str = "io.deis.oras.content.unpack";
/// The resource name of the config blob when it is signed (model-transparency-go's).
pub const CONFIG_RESOURCE: &str = "config.json";
/// The one layer media type named `tar` that ORAS uses for plain files.
const ORAS_FILE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// A content descriptor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Descriptor {
    /// Media type of the content.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// `sha256:HEX` of the content.
    pub digest: String,
    /// Size of the content in bytes.
    pub size: u64,
    /// Artifact type (referrers).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Platform (index entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// The platform of an index entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Platform {
    /// Operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// CPU architecture (`amd64`).
    #[serde(default)]
    pub architecture: String,
    /// CPU variant (`v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// Media type, when the manifest says.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// Artifact type (OCI 1.1).
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// Manifest annotations.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index (OCI or Docker manifest list).
#[derive(Debug, Clone, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// Media type, when the index says.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// The manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A manifest or an index.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// An image manifest.
    Manifest(Box<ImageManifest>),
    /// An image index.
    Index(ImageIndex),
}

/// Parses manifest bytes; `content_type` is what the registry said they are.
pub fn parse(bytes: &[u8], content_type: Option<&str>, what: &str) -> Result<Parsed> {
    let bad = |why: String| Error::Other(format!("{what}: not an OCI manifest or index: {why}"));
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let declared = v.get("mediaType").and_then(|m| m.as_str());
    let content_type = content_type.map(|c| c.split(';').next().unwrap_or("").trim());
    // A body whose mediaType contradicts the Content-Type is ambiguous, and an ambiguous
    // manifest is how one document gets read two ways: refuse it.
    if let (Some(d), Some(c)) = (declared, content_type) {
        if [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].contains(&c) && d != c {
            return Err(bad(format!(
                "the registry says {c} but the document says {d}"
            )));
        }
    }
    let kind = declared.or(content_type).unwrap_or("");
    let is_index = match kind {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        _ => v.get("manifests").is_some() && v.get("layers").is_none(),
    };
    if v.get("schemaVersion").and_then(|s| s.as_u64()) != Some(2) {
        return Err(bad("schemaVersion is not 2".into()));
    }
    if is_index {
        let idx: ImageIndex =
            serde_json::from_value(v).map_err(|e| bad(format!("bad index: {e}")))?;
        Ok(Parsed::Index(idx))
    } else {
        let m: ImageManifest =
            serde_json::from_value(v).map_err(|e| bad(format!("bad image manifest: {e}")))?;
        Ok(Parsed::Manifest(Box::new(m)))
    }
}

/// Picks the entry of an index for `platform` (`os/arch[/variant]`), or says which there are.
pub fn pick_platform<'a>(
    index: &'a ImageIndex,
    platform: Option<&str>,
    what: &str,
) -> Result<&'a Descriptor> {
    let available: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
        .collect();
    let Some(want) = platform else {
        return Err(Error::Usage(format!(
            "{what} is an image index: choose one of its manifests with --platform OS/ARCH, \
             or sign each with --all-platforms (it has: {})",
            if available.is_empty() {
                "no platform named".to_string()
            } else {
                available.join(", ")
            }
        )));
    };
    let matches: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.platform.as_ref().is_some_and(|p| {
                let s = p.to_string();
                s == want || (p.variant.is_some() && format!("{}/{}", p.os, p.architecture) == want)
            })
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::Usage(format!(
            "{what} has no manifest for platform {want} (it has: {})",
            if available.is_empty() {
                "no platform named".to_string()
            } else {
                available.join(", ")
            }
        ))),
        _ => Err(Error::Usage(format!(
            "{what} has several manifests for platform {want}: name the variant (it has: {})",
            available.join(", ")
        ))),
    }
}

/// Which layers become resources, and how.
#[derive(Debug, Clone, Default)]
pub struct LayerOptions {
    /// Sign the config blob as the resource `config.json` (model-transparency-go's option).
    pub include_config: bool,
    /// Sign layers that a pull unpacks (folders pushed by ORAS, ModelPack `.tar` layers) as
    /// one resource each with the archive's digest. The pulled folder then does not verify
    /// against the signature; the registry does.
    pub allow_archives: bool,
    /// Layer names (or folders of them) left out of the signature.
    pub exclude: Vec<String>,
}

/// Whether a pull writes something else than the layer's bytes under its name: an ORAS
/// folder, or a tar layer of ModelPack, KitOps or a container image. ORAS pushes plain
/// files as `application/vnd.oci.image.layer.v1.tar` without unpacking them on pull, so that
/// one type counts as a file.
pub fn is_archive(layer: &Descriptor) -> bool {
    if layer
        .annotation(ORAS_UNPACK)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return true;
    }
    let mt = layer.media_type.to_ascii_lowercase();
    if mt == ORAS_FILE_LAYER {
        return false;
    }
    mt.contains(".tar") || mt.contains("rootfs") || mt.contains("gzip") || mt.contains("zstd")
}

/// The name a layer's file has once pulled, from its annotations.
pub fn layer_name(layer: &Descriptor) -> Option<&str> {
    layer
        .annotation(TITLE)
        .or_else(|| layer.annotation(MODELPACK_FILEPATH))
        .filter(|n| !n.is_empty())
}

fn excluded(name: &str, exclude: &[String]) -> bool {
    exclude.iter().any(|e| {
        let e = e.trim_end_matches('/');
        name == e || name.starts_with(&format!("{e}/"))
    })
}

/// The model_signing manifest `image` stands for: file serialization, sha256, one resource
/// per layer. `what` names the image in errors.
pub fn to_manifest(
    image: &ImageManifest,
    model_name: &str,
    options: &LayerOptions,
    what: &str,
) -> Result<Manifest> {
    let mut resources = BTreeMap::new();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut add = |name: &str, digest: &str, label: String, problems: &mut Vec<String>| {
        let path = match ModelPath::parse(name) {
            Ok(p) if p.as_str() != "." && !name.contains('\\') => p,
            _ => {
                problems.push(format!(
                    "{label} is named {name:?}, not a safe relative path"
                ));
                return;
            }
        };
        let value = match check_digest(digest) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{label}: {e}"));
                return;
            }
        };
        if !names.insert(path.as_str().to_string()) {
            problems.push(format!("{label}: the name {name:?} is used twice"));
            return;
        }
        resources.insert(
            ResourceKey::File(path),
            Digest {
                algorithm: HashAlgorithm::Sha256.name().to_string(),
                value: value.to_vec(),
            },
        );
    };
    if options.include_config && !excluded(CONFIG_RESOURCE, &options.exclude) {
        add(
            CONFIG_RESOURCE,
            &image.config.digest,
            "the config blob".to_string(),
            &mut problems,
        );
    }
    for (i, layer) in image.layers.iter().enumerate() {
        let label = format!("layer {i} ({})", layer.digest);
        let Some(name) = layer_name(layer) else {
            problems.push(format!(
                "{label} has no {TITLE} or {MODELPACK_FILEPATH} annotation: no file name to \
                 sign it under (push files with ORAS, or leave this artifact unsigned)"
            ));
            continue;
        };
        if excluded(name, &options.exclude) {
            continue;
        }
        if is_archive(layer) && !options.allow_archives {
            problems.push(format!(
                "{label} {name:?} is an archive ({}) that a pull unpacks: its digest is not a \
                 file's; sign it as one resource with --allow-archives (the registry then \
                 verifies, the pulled folder does not)",
                layer.media_type
            ));
            continue;
        }
        add(name, &layer.digest, label, &mut problems);
    }
    if let Some(dir) = names.iter().find(|n| {
        names
            .range(format!("{n}/")..)
            .next()
            .is_some_and(|m| m.starts_with(&format!("{n}/")))
    }) {
        problems.push(format!(
            "{dir:?} is both a file and a folder of other layers"
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Usage(format!(
            "{what} cannot be signed as a model:\n  {}",
            problems.join("\n  ")
        )));
    }
    if resources.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to sign in {what}: it has no layer (or every layer was excluded)"
        )));
    }
    Ok(Manifest {
        model_name: model_name.to_string(),
        serialization: Serialization::files(HashAlgorithm::Sha256),
        resources,
    })
}

/// The model name of an image: its `org.opencontainers.image.name` annotation (as
/// model-transparency-go reads it), else `fallback`.
pub fn model_name(image: &ImageManifest, fallback: &str) -> String {
    image
        .annotations
        .as_ref()
        .and_then(|a| a.get("org.opencontainers.image.name"))
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(mt: &str, digest_byte: char, ann: &[(&str, &str)]) -> Descriptor {
        Descriptor {
            media_type: mt.into(),
            digest: format!("sha256:{}", digest_byte.to_string().repeat(64)),
            size: 1,
            artifact_type: None,
            annotations: Some(
                ann.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            platform: None,
        }
    }

    fn image(layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.into()),
            artifact_type: None,
            config: layer("application/vnd.oci.empty.v1+json", 'c', &[]),
            layers,
            subject: None,
            annotations: None,
        }
    }

    #[test]
    fn layers_are_named_by_title_then_modelpack_path() {
        let img = image(vec![
            layer(ORAS_FILE_LAYER, 'a', &[(TITLE, "model.bin")]),
            layer(
                "application/vnd.cncf.model.weight.v1.raw",
                'b',
                &[(MODELPACK_FILEPATH, "sub/w.safetensors")],
            ),
        ]);
        let m = to_manifest(&img, "m", &LayerOptions::default(), "x").unwrap();
        let names: Vec<String> = m.resources.keys().map(|k| k.to_string()).collect();
        assert_eq!(names, ["model.bin", "sub/w.safetensors"]);
        let with_config = LayerOptions {
            include_config: true,
            ..Default::default()
        };
        let m = to_manifest(&img, "m", &with_config, "x").unwrap();
        assert_eq!(m.resources.len(), 3);
    }

    #[test]
    fn unnamed_archived_duplicate_and_unsafe_layers_are_refused() {
        for bad in [
            vec![layer(ORAS_FILE_LAYER, 'a', &[])],
            vec![layer(
                "application/vnd.oci.image.layer.v1.tar+gzip",
                'a',
                &[(TITLE, "dir"), (ORAS_UNPACK, "true")],
            )],
            vec![layer(
                "application/vnd.cncf.model.weight.v1.tar",
                'a',
                &[(MODELPACK_FILEPATH, "w.bin")],
            )],
            vec![
                layer(ORAS_FILE_LAYER, 'a', &[(TITLE, "f")]),
                layer(ORAS_FILE_LAYER, 'b', &[(TITLE, "f")]),
            ],
            vec![
                layer(ORAS_FILE_LAYER, 'a', &[(TITLE, "f")]),
                layer(ORAS_FILE_LAYER, 'b', &[(TITLE, "f/g")]),
            ],
            vec![layer(ORAS_FILE_LAYER, 'a', &[(TITLE, "../etc/passwd")])],
            vec![layer(ORAS_FILE_LAYER, 'A', &[(TITLE, "f")])],
            vec![],
        ] {
            let img = image(bad.clone());
            assert!(
                to_manifest(&img, "m", &LayerOptions::default(), "x").is_err(),
                "{bad:?} accepted"
            );
        }
        let archive = image(vec![layer(
            "application/vnd.oci.image.layer.v1.tar+gzip",
            'a',
            &[(TITLE, "dir"), (ORAS_UNPACK, "true")],
        )]);
        let allow = LayerOptions {
            allow_archives: true,
            ..Default::default()
        };
        assert!(to_manifest(&archive, "m", &allow, "x").is_ok());
    }

    #[test]
    fn an_index_names_its_platforms_when_none_fits() {
        let idx = ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            manifests: vec![Descriptor {
                platform: Some(Platform {
                    os: "linux".into(),
                    architecture: "amd64".into(),
                    variant: None,
                }),
                ..layer(OCI_MANIFEST, 'a', &[])
            }],
        };
        let e = pick_platform(&idx, Some("linux/arm64"), "x").unwrap_err();
        assert!(e.to_string().contains("linux/amd64"), "{e}");
        assert!(pick_platform(&idx, Some("linux/amd64"), "x").is_ok());
        assert!(pick_platform(&idx, None, "x").is_err());
    }
}
