// libcow's build script passes the directory of libcow.so as DEP_COW_RPATH
// (not set when it links libcow.a): the binary finds the library there.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_COW_RPATH");
    if let Ok(dir) = std::env::var("DEP_COW_RPATH") {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
}
