//! Which build of the module a shared object holds, so that the module can
//! tell an operator when the file on disk is no longer the build Asterisk
//! runs: the loader never replaces a loaded module (`module load` finds it
//! running, and a runtime unload is refused), so a new build takes a restart.
//!
//! A build is named by the crate version, which the module embeds as a marker
//! string ([`VERSION_MARK`]), and by the linker's GNU build id, which differs
//! between any two different builds.

use std::fmt;

use object::{Object, ObjectSection};

/// The bytes the module embeds: the marker prefix, this crate's version, NUL.
/// (`#[used]` where it is defined keeps it in the shared object.)
pub const VERSION_MARK: &str = concat!(
    "app_stasis_broadcast-version=",
    env!("CARGO_PKG_VERSION"),
    "\0"
);

/// One build of the module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Build {
    /// The crate version found in the marker.
    pub version: Option<String>,
    /// The GNU build id, in hex.
    pub build_id: Option<String>,
}

impl Build {
    /// Reads both from the bytes of a shared object; what cannot be found
    /// (not ELF, no note, no marker) stays `None`.
    pub fn of_object(bytes: &[u8]) -> Build {
        Build {
            version: version_in(bytes),
            build_id: build_id_in(bytes),
        }
    }

    /// Whether `other` is another build: by build id when both have one,
    /// else by version (and unknown on either side counts as different).
    pub fn differs_from(&self, other: &Build) -> bool {
        match (&self.build_id, &other.build_id) {
            (Some(a), Some(b)) => a != b,
            _ => self.version.is_none() || self.version != other.version,
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.version.as_deref().unwrap_or("unknown version")
        )?;
        match &self.build_id {
            // 12 hex digits name a build well enough in a log line.
            Some(id) => write!(f, " (build id {})", &id[..id.len().min(12)]),
            None => write!(f, " (no build id)"),
        }
    }
}

/// The version in the marker, if the bytes hold one.
fn version_in(bytes: &[u8]) -> Option<String> {
    // The marker's prefix, taken from the marker itself so that the object
    // holds no second copy of it.
    let mark = VERSION_MARK.as_bytes();
    let prefix = &mark[..=mark.iter().position(|&b| b == b'=')?];
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], prefix) {
        let start = from + at + prefix.len();
        let rest = &bytes[start..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let v = &rest[..end];
        // The prefix can also occur where it is not followed by a version
        // (this very constant, in another build's data): look further.
        if !v.is_empty()
            && v.len() <= 64
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.~_".contains(b))
        {
            return String::from_utf8(v.to_vec()).ok();
        }
        from = start;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The GNU build id of an ELF object, in hex.
fn build_id_in(bytes: &[u8]) -> Option<String> {
    let file = object::File::parse(bytes).ok()?;
    if let Ok(Some(id)) = file.build_id() {
        return Some(hex(id));
    }
    // Some objects keep it only as a section.
    let data = file.section_by_name(".note.gnu.build-id")?.data().ok()?;
    // namesz, descsz, type, "GNU\0", then the id.
    data.get(16..).filter(|d| !d.is_empty()).map(hex)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file's identity in the file system: a cheap first check, before the
/// file is read (a new file from `install`, `mv` or a package has another
/// inode; an edit in place changes the size or the time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_after_the_marker_and_stray_prefixes_are_skipped() {
        let mut bytes = b"xx\0app_stasis_broadcast-version=\0junk".to_vec();
        bytes.extend_from_slice(b"app_stasis_broadcast-version=1.2.3-rc1\0tail");
        assert_eq!(version_in(&bytes).as_deref(), Some("1.2.3-rc1"));
        assert_eq!(version_in(b"nothing here"), None);
        assert_eq!(
            version_in(VERSION_MARK.as_bytes()).as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn a_real_elf_object_has_a_build_id() {
        // The unit-test binary itself, linked like the module.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let b = Build::of_object(&exe);
        let id = b.build_id.expect("the linker writes a GNU build id");
        assert!(id.len() >= 16 && id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(Build::of_object(b"not elf").build_id, None);
    }

    #[test]
    fn builds_differ_by_build_id_else_by_version() {
        let b = |v: Option<&str>, id: Option<&str>| Build {
            version: v.map(Into::into),
            build_id: id.map(Into::into),
        };
        assert!(!b(Some("0.1.0"), Some("aa")).differs_from(&b(Some("0.1.0"), Some("aa"))));
        assert!(b(Some("0.1.0"), Some("aa")).differs_from(&b(Some("0.1.0"), Some("bb"))));
        // Same id, another version string: the id decides.
        assert!(!b(Some("0.1.0"), Some("aa")).differs_from(&b(Some("0.2.0"), Some("aa"))));
        assert!(b(Some("0.1.0"), None).differs_from(&b(Some("0.2.0"), None)));
        assert!(!b(Some("0.1.0"), None).differs_from(&b(Some("0.1.0"), None)));
        assert!(b(None, None).differs_from(&b(None, None)));
        assert_eq!(
            b(Some("0.1.0"), Some("0123456789abcdef")).to_string(),
            "0.1.0 (build id 0123456789ab)"
        );
    }
}
