//! The dashboard's chart library, uPlot, comes from npm at build time
//! (http/dashboard/package.json and its lock file, installed by `npm ci`, which
//! scripts/install.sh and docker/http.Dockerfile run) and is embedded in the
//! binary with its licence (routes/dashboard.rs). Without it the build stops
//! here and says what to run.

use std::path::Path;

const UPLOT_FILES: [&str; 3] = ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let uplot = Path::new(&manifest).join("dashboard/node_modules/uplot");
    println!("cargo:rerun-if-changed=dashboard/package-lock.json");
    for file in UPLOT_FILES {
        let path = uplot.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        if !path.is_file() {
            panic!(
                "\n\n{} is missing.\nThe dashboard's chart library (uPlot) is installed from npm at build time: \
                 run `npm ci --prefix http/dashboard` (scripts/install.sh does it), then build again.\n",
                path.display()
            );
        }
    }
}
