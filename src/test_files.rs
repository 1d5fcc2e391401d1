//! Files that unit tests change under a watcher (a JWK set, a policy).

use std::path::Path;
use std::time::Duration;

/// Rewrites the file a second later than it was, as a file system with a
/// coarse clock might not show two writes in a row.
pub fn rewrite(path: &Path, contents: &str) {
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, contents).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(before + Duration::from_secs(1)).unwrap();
}
