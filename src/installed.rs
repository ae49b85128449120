//! Is the module file on disk still the build Asterisk runs?
//!
//! The loader never replaces a loaded module: `module load` finds it running,
//! a plain `module unload` or `module refresh` is refused (the shutdown
//! reference), and even after a forced unload a new `dlopen` of the same path
//! returns the object already mapped (it stays resident). So after an operator
//! installs a new build, the old one runs until Asterisk restarts. The first
//! load records which build the file held; a new file put in its place (seen
//! at once through inotify), a load, a reload and `stasis broadcast show`
//! compare the file with it and say so when it holds another build.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::asterisk::host;
use crate::core::installed::{Build, Stamp, VERSION_MARK};
use crate::watch;

/// Keeps the version marker in the shared object (nothing else reads it).
#[used]
static MARK: &str = VERSION_MARK;

/// The file's identity when last checked (`None`: it could not be had), and
/// what it held then when that was another build (`Err`: it could not be read).
type Checked = (Option<Stamp>, Option<Result<Build, String>>);

/// The file and the build loaded from it, as at the first load.
struct Loaded {
    path: PathBuf,
    build: Build,
    last: Mutex<Checked>,
}

static LOADED: OnceLock<Option<Loaded>> = OnceLock::new();

fn stamp(path: &PathBuf) -> Result<Stamp, String> {
    let m = fs::metadata(path).map_err(|e| e.to_string())?;
    Ok(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
    })
}

fn build_of(path: &PathBuf) -> Result<Build, String> {
    fs::read(path)
        .map(|b| Build::of_object(&b))
        .map_err(|e| e.to_string())
}

/// Records the running build (the first load; later calls do nothing), and from then on
/// warns the moment another file is put in its place (the path the loader opened, and the
/// file it leads to when that is a symbolic link).
pub fn record() {
    LOADED.get_or_init(|| {
        let path = PathBuf::from(host::module_path()?);
        let st = stamp(&path).ok()?;
        let build = build_of(&path).ok()?;
        let mut files = vec![path.clone()];
        files.extend(fs::canonicalize(&path).ok().filter(|c| *c != path));
        if let Err(e) = watch::spawn(&files, || {
            warn_if_replaced();
        }) {
            warning!("{e}: a new build installed over this one is noticed only on reload and show");
        }
        Some(Loaded {
            path,
            build,
            last: Mutex::new((Some(st), None)),
        })
    });
}

/// The running build, for the load NOTICE.
pub fn running() -> String {
    match LOADED.get() {
        Some(Some(l)) => l.build.to_string(),
        _ => Build {
            version: Some(env!("CARGO_PKG_VERSION").into()),
            build_id: None,
        }
        .to_string(),
    }
}

/// When the file on disk holds another build than the one running, the
/// sentence that says so, else `None`. Reads the file only when its identity
/// changed since the last check.
pub fn mismatch() -> Option<String> {
    let l = LOADED.get()?.as_ref()?;
    let mut last = l.last.lock();
    match stamp(&l.path) {
        Ok(now) if Some(now) == last.0 => {}
        Ok(now) => {
            let found = build_of(&l.path);
            let other = found.as_ref().map_or(true, |b| b.differs_from(&l.build));
            *last = (Some(now), other.then_some(found));
        }
        Err(e) => *last = (None, Some(Err(e))),
    }
    let on_disk = match last.1.as_ref()? {
        Ok(b) => format!("is app_stasis_broadcast {b}"),
        Err(e) => format!("cannot be read ({e})"),
    };
    Some(format!(
        "the module file {} {on_disk}, but this Asterisk runs {}, loaded from it earlier; a loaded \
         module is never replaced (module load and module refresh keep the running one): restart \
         Asterisk to run the file's build (core restart gracefully)",
        l.path.display(),
        l.build
    ))
}

/// Logs the mismatch, if any, as one WARNING; returns it for the CLI.
pub fn warn_if_replaced() -> Option<String> {
    let m = mismatch()?;
    warning!("{m}");
    Some(m)
}
