//! The target of an online command: which platform and organisation activations go to, what
//! their records say about it, and where those records (lockfiles) are kept.
//!
//! A recorded run counts as applied only for the target it was sent to. The built-in emulator
//! (`--emulator`) is a target of its own: its records never go into the committed lockfiles
//! beside the plans but into the emulator's state directory (`.aepact/lockfiles/…` by default),
//! so an emulator rehearsal can never make a real activation look done, and the committed
//! lockfiles stay the record of real activations only (`docs/lockfile.md`, "Targets").

use std::path::{Path, PathBuf};

use crate::lockfile::{EMULATOR_ENDPOINT, lockfile_path, redact_endpoint};

/// Where activations go and where their lockfiles are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What runs record as `endpoint`: the platform's base URL without credentials, query or
    /// fragment, or [`EMULATOR_ENDPOINT`] for the built-in emulator (whatever its port).
    pub endpoint: String,
    /// The IMS organisation (`x-gw-ims-org-id`).
    pub org: String,
    /// The emulator's lockfile directory; `None`: lockfiles beside the plans.
    emulator_lockfiles: Option<PathBuf>,
}

impl Target {
    /// A platform reached through `AEP_PLATFORM_URL` (Adobe, or an emulator the client does not
    /// know is one): lockfiles beside the plans.
    pub fn platform(platform_url: &str, org: &str) -> Self {
        Self {
            endpoint: redact_endpoint(platform_url),
            org: org.to_owned(),
            emulator_lockfiles: None,
        }
    }

    /// The built-in emulator whose world is kept in `state_file`: lockfiles under
    /// `<state file's directory>/lockfiles/`.
    pub fn emulator(org: &str, state_file: &Path) -> Self {
        let dir = state_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            endpoint: EMULATOR_ENDPOINT.to_owned(),
            org: org.to_owned(),
            emulator_lockfiles: Some(dir.join("lockfiles")),
        }
    }

    /// Whether this is the built-in emulator.
    pub fn is_emulator(&self) -> bool {
        self.emulator_lockfiles.is_some()
    }

    /// The lockfile of the plan whose canonical file is `plan_file`.
    ///
    /// Beside the plan (`plans/x.yaml` → `plans/x.lock.json`) for a platform. For the emulator,
    /// the same relative path under its lockfile directory when the plan is below the current
    /// directory (`.aepact/lockfiles/plans/x.lock.json`), else a name made unique by a digest of
    /// the plan's path (`.aepact/lockfiles/_elsewhere/x-<12 hex>.lock.json`).
    ///
    /// A path below the current directory is given relative to it, as people name it.
    pub fn lockfile_for(&self, plan_file: &Path) -> PathBuf {
        let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
        let relative = cwd
            .as_deref()
            .and_then(|cwd| plan_file.strip_prefix(cwd).ok())
            .filter(|r| !r.as_os_str().is_empty());
        let Some(dir) = &self.emulator_lockfiles else {
            return lockfile_path(relative.unwrap_or(plan_file));
        };
        if let Some(relative) = relative {
            return dir.join(lockfile_path(relative));
        }
        let stem = plan_file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plan".to_owned());
        let digest = crate::digest::sha256_hex(plan_file.to_string_lossy().as_bytes());
        dir.join("_elsewhere")
            .join(format!("{stem}-{}.lock.json", &digest[..12]))
    }

    /// Where to look for the lockfiles of `path` (`aepact log`): for a platform, `path` itself;
    /// for the emulator, its counterpart under the emulator's lockfile directory: a plan file's
    /// lockfile ([`lockfile_for`](Self::lockfile_for)), a directory below the current one the
    /// same directory under `lockfiles/` (the whole of it for `.`), anything else as given.
    pub fn lockfiles_of(&self, path: &Path) -> PathBuf {
        let Some(dir) = &self.emulator_lockfiles else {
            return path.to_path_buf();
        };
        let name = path.to_string_lossy();
        let canonical = std::fs::canonicalize(path).ok();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            return self.lockfile_for(canonical.as_deref().unwrap_or(path));
        }
        let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
        match (canonical, cwd) {
            (Some(full), Some(cwd)) if full.is_dir() => match full.strip_prefix(&cwd) {
                Ok(relative) => dir.join(relative),
                Err(_) => path.to_path_buf(),
            },
            _ => path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lockfiles_sit_beside_the_plan() {
        let t = Target::platform("https://user:pw@platform.adobe.io/", "ORG");
        assert_eq!(t.endpoint, "https://platform.adobe.io");
        assert!(!t.is_emulator());
        assert_eq!(
            t.lockfile_for(Path::new("/nowhere-else/plans/a.yaml")),
            Path::new("/nowhere-else/plans/a.lock.json")
        );
        let cwd = std::fs::canonicalize(std::env::current_dir().unwrap()).unwrap();
        assert_eq!(
            t.lockfile_for(&cwd.join("plans/a.yaml")),
            Path::new("plans/a.lock.json")
        );
    }

    #[test]
    fn emulator_lockfiles_live_under_its_state_directory() {
        let t = Target::emulator("ORG", Path::new(".aepact/emulator-state.json"));
        assert_eq!(t.endpoint, "emulator");
        assert!(t.is_emulator());
        let cwd = std::fs::canonicalize(std::env::current_dir().unwrap()).unwrap();
        assert_eq!(
            t.lockfile_for(&cwd.join("plans/a.yaml")),
            Path::new(".aepact/lockfiles/plans/a.lock.json")
        );
        let elsewhere = t.lockfile_for(Path::new("/nowhere-else/a.yaml"));
        assert!(
            elsewhere.starts_with(".aepact/lockfiles/_elsewhere")
                && elsewhere.to_string_lossy().ends_with(".lock.json"),
            "{}",
            elsewhere.display()
        );
    }
}
