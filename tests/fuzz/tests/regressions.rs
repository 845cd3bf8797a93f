//! Every input kept for the fuzz targets (`seeds`, and each crash a fuzzing
//! run found, in `regressions`) runs through its target: a crash once found
//! stays fixed.

use std::fs;
use std::path::Path;

use ruptime_fuzz::TARGETS;

#[test]
fn every_kept_input_runs_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, target) in TARGETS {
        let mut inputs = 0;
        for kind in ["seeds", "regressions"] {
            let Ok(dir) = fs::read_dir(root.join(kind).join(name)) else {
                continue;
            };
            for entry in dir.flatten() {
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                target(&fs::read(entry.path()).unwrap());
                inputs += 1;
            }
        }
        assert!(inputs > 0, "{name}: no input kept");
    }
}
