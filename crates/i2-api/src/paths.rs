//! Client-supplied relative paths inside a project directory. Nothing may escape it:
//! absolute paths, `..` components and symlinks that lead outside are refused.

use std::path::{Component, Path, PathBuf};

/// Resolve `rel` under `root`; `None` if it would leave `root` or does not exist.
pub fn resolve_inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.contains('\0') {
        return None;
    }
    let mut joined = PathBuf::from(root);
    for comp in rel_path.components() {
        match comp {
            Component::Normal(c) => joined.push(c),
            Component::CurDir => {}
            // Absolute paths, drive prefixes and `..` are never followed.
            Component::RootDir | Component::Prefix(_) | Component::ParentDir => return None,
        }
    }
    let real_root = root.canonicalize().ok()?;
    let real = joined.canonicalize().ok()?;
    real.starts_with(&real_root).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("i2-paths-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).expect("mkdir");
        std::fs::write(dir.join("a/f.txt"), "x").expect("write");
        assert!(resolve_inside(&dir, "a/f.txt").is_some());
        assert!(resolve_inside(&dir, "./a/f.txt").is_some());
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../x",
            "a/missing",
            "a/f.txt\0",
        ] {
            assert!(resolve_inside(&dir, bad).is_none(), "{bad:?}");
        }
        #[cfg(unix)]
        {
            let link = dir.join("out");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/etc", &link).expect("symlink");
            assert!(resolve_inside(&dir, "out/passwd").is_none());
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
